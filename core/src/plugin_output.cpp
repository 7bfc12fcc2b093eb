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

}  // namespace

bool isValidUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        char32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
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
            return false;
        }
        if (i + extra >= text.size()) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += extra + 1;
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
    // The plugin's own text is kept (its key order and number formatting), minus padding.
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string errorObject(const std::string& message) {
    Poco::JSON::Object object;
    object.set("error", message);
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

}  // namespace sensorsys::agent
