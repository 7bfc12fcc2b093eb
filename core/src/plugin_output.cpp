#include "plugin_output.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/NumberParser.h>

namespace sensorsys::agent {
namespace {

// Say what the output really was when it is no object at all.
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

// Readings are also read back as POCO JSON (a double per number): a number past a double's
// range, such as 1e400, is refused although the server would store it.
void requireDouble(std::string_view number) {
    double value = 0;
    if (!Poco::NumberParser::tryParseFloat(std::string(number), value)) {
        throw PluginOutputError("output is not valid JSON: the number " +
                                    std::string(number.substr(0, 32)) + " is past a double's range",
                                PluginOutputError::Reason::NotADouble);
    }
}

// Validates one value as the server does, and its numbers as doubles.
void checkValue(JsonCursor& cursor, int depth) {
    bool first = true;
    switch (cursor.peek()) {
        case JsonCursor::Kind::Number:
            requireDouble(cursor.readNumber());
            return;
        case JsonCursor::Kind::Object: {
            cursor.beginObject(depth);
            std::string key;
            while (cursor.nextKey(first, key)) checkValue(cursor, depth + 1);
            return;
        }
        case JsonCursor::Kind::Array:
            cursor.beginArray(depth);
            while (cursor.nextElement(first)) checkValue(cursor, depth + 1);
            return;
        default:
            cursor.skipValue(depth);
    }
}

[[noreturn]] void refuse(const JsonSyntaxError& e) {
    switch (e.problem()) {
        case JsonSyntaxError::Problem::TooDeep:
            throw PluginOutputError("output is nested more than " +
                                    std::to_string(kMaxOutputDepth) + " levels deep");
        case JsonSyntaxError::Problem::Unstorable:
            throw PluginOutputError(std::string("output holds what PostgreSQL cannot store: ") +
                                    e.what());
        case JsonSyntaxError::Problem::Syntax:
            break;
    }
    throw PluginOutputError("output is not valid JSON: " + std::string(e.what()) + " at offset " +
                            std::to_string(e.offset()));
}

}  // namespace

std::string validatePluginOutput(std::string_view text, std::size_t cap) {
    if (text.size() > cap) {
        throw PluginOutputError("output of " + std::to_string(text.size()) +
                                    " bytes exceeds the cap of " + std::to_string(cap) + " bytes",
                                PluginOutputError::Reason::TooLarge);
    }
    if (!isValidUtf8(text)) throw PluginOutputError("output is not valid UTF-8");
    requireObjectStart(text);
    // The output sits kPayloadValueDepth containers below the root of the sync's bulk body.
    JsonCursor cursor(text, kMaxOutputDepth);
    try {
        checkValue(cursor, 0);
        cursor.end();
    } catch (const JsonSyntaxError& e) {
        refuse(e);
    }
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
