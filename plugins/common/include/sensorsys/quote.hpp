// Quoting untrusted program or file text for error messages (plugins/common, header only).
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sensorsys::plugin {

// `text` in double quotes with control and non-ASCII bytes escaped and long text cut, so output
// of a misbehaving program can go into an error message (and the log line or JSON that carries
// it) without breaking it.
inline std::string quoted(std::string_view text, std::size_t limit = 80) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string result = "\"";
    for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
            case '\n':
                result += "\\n";
                break;
            case '\r':
                result += "\\r";
                break;
            case '\t':
                result += "\\t";
                break;
            case '"':
                result += "\\\"";
                break;
            case '\\':
                result += "\\\\";
                break;
            default:
                if (c < 0x20 || c >= 0x7f) {
                    result += "\\x";
                    result += kHex[c >> 4];
                    result += kHex[c & 0xf];
                } else {
                    result += static_cast<char>(c);
                }
        }
    }
    result += '"';
    if (text.size() > limit) result += "...";
    return result;
}

}  // namespace sensorsys::plugin
