#include "exec_words.hpp"

#include <sensorsys/plugin_support.hpp>

#include <optional>

namespace sensorsys::exec {
namespace {

constexpr std::string_view kBlank = " \t\n";
constexpr std::string_view kOperators = "|&;<>()";

// Walks the command once; `word` is set while a word (possibly empty, as in '') is open.
// Thread-safety: one owner.
class Splitter {
  public:
    explicit Splitter(std::string_view command) : _text(command) {}

    std::vector<std::string> run() {
        while (_at < _text.size()) step();
        close();
        if (_words.empty()) throw plugin::ConfigError("key 'command' must name a program to run");
        return std::move(_words);
    }

  private:
    void step() {
        const char c = _text[_at++];
        if (kBlank.find(c) != std::string_view::npos) return close();
        if (kOperators.find(c) != std::string_view::npos) {
            throw plugin::ConfigError(std::string("key 'command' has an unquoted '") + c +
                                      "', which needs a shell: quote it, or set shell = true");
        }
        if (c == '\\' && _at < _text.size() && _text[_at] == '\n') {
            ++_at;  // backslash-newline joins lines and makes no word
            return;
        }
        std::string& word = open();
        if (c == '\'') return singleQuoted(word);
        if (c == '"') return doubleQuoted(word);
        if (c == '\\') return escaped(word);
        word += c;
    }

    std::string& open() {
        if (!_word) _word.emplace();
        return *_word;
    }

    void close() {
        if (_word) _words.push_back(std::move(*_word));
        _word.reset();
    }

    void singleQuoted(std::string& word) {
        const std::size_t end = _text.find('\'', _at);
        if (end == std::string_view::npos) unterminated("single");
        word.append(_text.substr(_at, end - _at));
        _at = end + 1;
    }

    // Inside double quotes a backslash escapes only $ ` " \ and a newline, as in sh.
    void doubleQuoted(std::string& word) {
        for (;;) {
            if (_at >= _text.size()) unterminated("double");
            const char c = _text[_at++];
            if (c == '"') return;
            if (c == '\\' && _at < _text.size() &&
                std::string_view("$`\"\\\n").find(_text[_at]) != std::string_view::npos) {
                const char next = _text[_at++];
                if (next != '\n') word += next;
                continue;
            }
            word += c;
        }
    }

    void escaped(std::string& word) {
        if (_at >= _text.size()) {
            throw plugin::ConfigError("key 'command' ends in a backslash that escapes nothing");
        }
        word += _text[_at++];
    }

    [[noreturn]] static void unterminated(const char* kind) {
        throw plugin::ConfigError(std::string("key 'command' has an unterminated ") + kind +
                                  " quote");
    }

    std::string_view _text;
    std::size_t _at = 0;
    std::optional<std::string> _word;
    std::vector<std::string> _words;
};

}  // namespace

std::vector<std::string> splitWords(std::string_view command) {
    return Splitter(command).run();
}

}  // namespace sensorsys::exec
