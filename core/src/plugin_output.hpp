// Checks what a plugin's read produced before it becomes part of a reading: one JSON object,
// valid UTF-8, only finite numbers (no NaN), within the size cap, and nothing the server cannot
// store (\u0000, nesting past 60 levels, numbers past jsonb's range). Stateless; safe from any
// thread.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sensorsys::agent {

// The output was refused; what() says why, e.g. "output is a JSON array, not an object".
class PluginOutputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Largest output accepted from one read, unless configured otherwise.
inline constexpr std::size_t kDefaultOutputCap = 64 * 1024;

// Returns the object's JSON text without surrounding whitespace, or throws PluginOutputError.
std::string validatePluginOutput(std::string_view text, std::size_t cap = kDefaultOutputCap);

// {"error": "<message>"}, properly escaped: what a failing instance contributes to a reading.
// Bytes of the message that are not well-formed UTF-8 become U+FFFD.
std::string errorObject(const std::string& message);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool isValidUtf8(std::string_view text);

}  // namespace sensorsys::agent
