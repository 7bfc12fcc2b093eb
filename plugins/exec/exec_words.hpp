// Splitting the exec plugin's `command` into argv the way a POSIX shell splits words (single
// and double quotes, backslashes) but without any expansion: no variables, globs, tildes,
// command substitution, redirections or pipes. Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::exec {

// The words of `command`. Throws plugin::ConfigError for an unterminated quote, a trailing
// backslash, no word at all, or an unquoted shell operator (| & ; < > ( )), which would need
// a shell: the message says to quote it or set `shell = true`.
std::vector<std::string> splitWords(std::string_view command);

}  // namespace sensorsys::exec
