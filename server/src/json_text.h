// Small helpers to write JSON text by hand on hot paths (no DOM) and to check UTF-8.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sensorsys::server {

// Appends s as a JSON string literal (quotes included) to out. Bytes of s that are not
// well-formed UTF-8 are written as U+FFFD, so the result is always valid JSON.
void appendJsonString(std::string& out, std::string_view s);

// s as a JSON string literal.
std::string jsonString(std::string_view s);

// True if s is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
// On failure, *badOffset (if given) is the offset of the first bad byte.
bool isValidUtf8(std::string_view s, std::size_t* badOffset = nullptr);

}  // namespace sensorsys::server
