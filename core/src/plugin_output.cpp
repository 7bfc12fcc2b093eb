#include "plugin_output.hpp"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace sensorsys::agent {
namespace {

using Poco::Dynamic::Var;

// Poco's parser reports a bare scalar as "empty stack"; say what the output really was.
void requireObjectStart(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] == '{') return;
    const char c = text[first];
    const char* kind = c == '['                          ? "a JSON array"
                       : c == '"'                        ? "a JSON string"
                       : text.substr(first, 4) == "null" ? "null"
                                                         : "a JSON scalar";
    throw PluginOutputError(std::string("output is ") + kind + ", not an object");
}

// Limits of the server's JSON reader (server/src/json_cursor.h), which refuses what PostgreSQL's
// jsonb cannot store. An output is kept only if the server stores it: a refused reading would
// lose every sensor's value of that tick. The output sits four levels below the root of the
// sync's bulk body ({"readings": [{"payload": {"<sensor>": ...}}]}) and the server reads 64.
constexpr int kMaxOutputDepth = 60;
constexpr std::size_t kMaxNumberChars = 500;
constexpr int kMaxExponent = 1000;

// From the opening quote of a string in valid JSON text; returns the closing quote's index.
// (POCO's parser already refuses unpaired surrogate escapes, as the server does.)
std::size_t checkString(std::string_view json, std::size_t i) {
    for (++i; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] != '\\') continue;
        ++i;
        if (json.substr(i, 5) == "u0000") {
            throw PluginOutputError("output holds \\u0000, which PostgreSQL cannot store");
        }
    }
    return i;
}

// From the first character of a number in valid JSON text; returns its last character's index.
std::size_t checkNumber(std::string_view json, std::size_t i) {
    const std::size_t end = json.find_first_not_of("0123456789+-.eE", i);
    const std::string_view number = json.substr(i, end - i);
    if (number.size() > kMaxNumberChars) {
        throw PluginOutputError("output holds a number of more than " +
                                std::to_string(kMaxNumberChars) + " characters");
    }
    if (const auto e = number.find_first_of("eE"); e != std::string_view::npos) {
        int exponent = 0;
        for (const char d : number.substr(e + 1)) {
            if (d >= '0' && d <= '9' && exponent <= kMaxExponent)
                exponent = exponent * 10 + d - '0';
        }
        if (exponent > kMaxExponent) {
            throw PluginOutputError("output holds a number with an exponent beyond " +
                                    std::to_string(kMaxExponent));
        }
    }
    return i + number.size() - 1;
}

// Refuses valid JSON the server would not store (see kMaxOutputDepth).
void requireStorable(std::string_view json) {
    int depth = 0;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '{' || c == '[') {
            if (++depth > kMaxOutputDepth) {
                throw PluginOutputError("output is nested more than " +
                                        std::to_string(kMaxOutputDepth) + " levels deep");
            }
        } else if (c == '}' || c == ']') {
            --depth;
        } else if (c == '"') {
            i = checkString(json, i);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            i = checkNumber(json, i);
        }
    }
}

// The length of the well-formed UTF-8 sequence at text[i], 0 if there is none (overlongs,
// surrogates, code points past U+10FFFF and cut sequences are not well-formed).
std::size_t sequenceLength(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    char32_t cp = 0;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        extra = 1;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        extra = 2;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        extra = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + extra >= text.size()) return 0;
    for (std::size_t k = 1; k <= extra; ++k) {
        const auto cc = static_cast<unsigned char>(text[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return extra + 1;
}

// The text with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string repairedUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = sequenceLength(text, i);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

}  // namespace

bool isValidUtf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = sequenceLength(text, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

std::string validatePluginOutput(std::string_view text, std::size_t cap) {
    if (text.size() > cap) {
        throw PluginOutputError("output of " + std::to_string(text.size()) +
                                " bytes exceeds the cap of " + std::to_string(cap) + " bytes");
    }
    if (!isValidUtf8(text)) throw PluginOutputError("output is not valid UTF-8");
    requireObjectStart(text);
    Var parsed;
    try {
        Poco::JSON::Parser parser;
        parsed = parser.parse(std::string(text));
    } catch (const Poco::Exception& e) {
        throw PluginOutputError("output is not valid JSON: " + e.displayText());
    }
    // Poco's parser refuses NaN, Infinity and out-of-range numbers such as 1e999 itself.
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw PluginOutputError("output is not a JSON object");
    }
    requireStorable(text);
    // The plugin's own text is kept (its key order and number formatting), minus padding.
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string errorObject(const std::string& message) {
    Poco::JSON::Object object;
    // Messages can carry a plugin's own bytes (its error text, cut at the host's buffer size);
    // invalid UTF-8 would make the whole reading one the server refuses.
    object.set("error", repairedUtf8(message));
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

}  // namespace sensorsys::agent
