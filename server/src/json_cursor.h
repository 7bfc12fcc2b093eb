// A strict RFC 8259 JSON reader over a text buffer, without a DOM: the request parser walks the
// structure it expects, takes the strings it needs and the raw text of payload objects, and
// skips (while validating) everything else. It refuses what PostgreSQL's jsonb would refuse
// (\u0000, unpaired surrogates, numbers beyond numeric's range) so a payload it accepts is
// always storable. Not thread-safe (one per request).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sensorsys::server {

class JsonSyntaxError : public std::runtime_error {
  public:
    JsonSyntaxError(const std::string& what, std::size_t offset)
        : std::runtime_error(what), _offset(offset) {}
    std::size_t offset() const { return _offset; }

  private:
    std::size_t _offset;
};

class JsonCursor {
  public:
    enum class Kind { Null, Boolean, Number, String, Object, Array };
    static constexpr int kMaxDepth = 64;

    explicit JsonCursor(std::string_view text) : _text(text) {}

    // The kind of the next value (whitespace skipped); throws on anything else.
    Kind peek();
    // Validates and skips one value; depth counts the enclosing containers.
    void skipValue(int depth);
    // Reads a string value, unescaped.
    std::string readString();
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
    [[noreturn]] void fail(const std::string& what) const;
    void ws();
    void expect(char c);
    void skipNumber();
    void literal(std::string_view word);
    unsigned hex4();

    std::string_view _text;
    std::size_t _pos = 0;
};

}  // namespace sensorsys::server
