// The one UTF-8 check of the agent and the server, and small helpers to write JSON text by hand
// on hot paths (no DOM). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sensorsys {

// Appends s as a JSON string literal (quotes included) to out. Bytes of s that are not
// well-formed UTF-8 are written as U+FFFD, so the result is always valid JSON.
void appendJsonString(std::string& out, std::string_view s);

// s as a JSON string literal.
std::string jsonString(std::string_view s);

// True if s is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
// On failure, *badOffset (if given) is the offset of the first bad byte.
bool isValidUtf8(std::string_view s, std::size_t* badOffset = nullptr);

// The number of code points of s, which must be valid UTF-8.
std::size_t utf8Length(std::string_view s);

// s with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string repairedUtf8(std::string_view s);

}  // namespace sensorsys
