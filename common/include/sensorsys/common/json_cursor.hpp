// The one strict RFC 8259 JSON reader of the agent and the server, over a text buffer, without
// a DOM: the server's request parser walks the structure it expects, takes the strings it needs
// and the raw text of payload objects, and skips (while validating) everything else; the agent
// checks a plugin's output with it. It refuses what PostgreSQL's jsonb would refuse (\u0000,
// unpaired surrogates, numbers beyond numeric's range, see the limits below), so a payload it
// accepts is always storable, and the agent keeps only what the server will store.
// Not thread-safe (one cursor per text).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sensorsys {

// Limits of what is stored (jsonb, numeric), shared by the agent and the server.
// Containers the server reads from the root of a request body.
inline constexpr int kMaxJsonDepth = 64;
// A number's text, and its decimal exponent (numeric's range).
inline constexpr std::size_t kMaxJsonNumberChars = 500;
inline constexpr int kMaxJsonExponent = 1000;
// Where one sensor's value sits in the sync's bulk body, {"readings": [{"payload": {"<sensor>":
// ...}}]}: the agent allows a plugin's output the depth the server has left there.
inline constexpr int kPayloadValueDepth = 4;

class JsonSyntaxError : public std::runtime_error {
  public:
    // Syntax: not RFC 8259 JSON; TooDeep: past the reader's depth; Unstorable: JSON that jsonb
    // refuses (\u0000, numbers past numeric's range).
    enum class Problem { Syntax, TooDeep, Unstorable };

    JsonSyntaxError(const std::string& what, std::size_t offset, Problem problem = Problem::Syntax)
        : std::runtime_error(what), _offset(offset), _problem(problem) {}
    std::size_t offset() const { return _offset; }
    Problem problem() const { return _problem; }

  private:
    std::size_t _offset;
    Problem _problem;
};

class JsonCursor {
  public:
    enum class Kind { Null, Boolean, Number, String, Object, Array };

    // maxDepth: containers allowed from the value the caller starts at (depth 0).
    explicit JsonCursor(std::string_view text, int maxDepth = kMaxJsonDepth)
        : _text(text), _maxDepth(maxDepth) {}

    // The kind of the next value (whitespace skipped); throws on anything else.
    Kind peek();
    // Validates and skips one value; depth counts the enclosing containers.
    void skipValue(int depth);
    // Reads a string value, unescaped.
    std::string readString();
    // Reads a number value and returns its text.
    std::string_view readNumber();
    // Objects: begin() then nextKey() until it returns false (the closing brace consumed).
    void beginObject(int depth);
    bool nextKey(bool& first, std::string& key);
    // Arrays: beginArray() then nextElement() until false.
    void beginArray(int depth);
    bool nextElement(bool& first);
    // Only whitespace may follow.
    void end();

    std::size_t position() const { return _pos; }
    std::string_view slice(std::size_t from, std::size_t to) const {
        return _text.substr(from, to - from);
    }

    static const char* kindName(Kind kind);

  private:
    [[noreturn]] void fail(const std::string& what, JsonSyntaxError::Problem problem =
                                                        JsonSyntaxError::Problem::Syntax) const;
    void ws();
    void expect(char c);
    void requireDepth(int depth) const;
    void skipNumber();
    void literal(std::string_view word);
    unsigned hex4();
    void readEscape(std::string& out);

    std::string_view _text;
    int _maxDepth;
    std::size_t _pos = 0;
};

}  // namespace sensorsys
