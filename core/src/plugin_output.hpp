// Checks what a plugin's read produced before it becomes part of a reading: one JSON object,
// valid UTF-8, only numbers a double holds (no NaN, no 1e400), within the size cap, and nothing
// the server cannot store (\u0000, nesting past 60 levels, numbers past jsonb's range): it reads
// with the server's own JSON reader (sensorsys/common/json_cursor.hpp). Stateless; safe from
// any thread.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sensorsys/common/json_cursor.hpp>
#include <sensorsys/common/json_text.hpp>

namespace sensorsys::agent {

// The output was refused; what() says why, e.g. "output is a JSON array, not an object".
class PluginOutputError : public std::runtime_error {
  public:
    // Why, where the server would decide otherwise: TooLarge (the agent's cap) and NotADouble
    // (a number past a double's range, which the server stores) are the agent's own rules;
    // every other refusal is one the server makes too.
    enum class Reason { TooLarge, NotADouble, Other };

    explicit PluginOutputError(const std::string& what, Reason reason = Reason::Other)
        : std::runtime_error(what), _reason(reason) {}
    Reason reason() const { return _reason; }

  private:
    Reason _reason;
};

// Containers allowed in an output: what the server reads below a sensor's value.
inline constexpr int kMaxOutputDepth = kMaxJsonDepth - kPayloadValueDepth;

// Largest output accepted from one read, unless configured otherwise.
inline constexpr std::size_t kDefaultOutputCap = 64 * 1024;

// Returns the object's JSON text without surrounding whitespace, or throws PluginOutputError.
std::string validatePluginOutput(std::string_view text, std::size_t cap = kDefaultOutputCap);

// {"error": "<message>"}, properly escaped: what a failing instance contributes to a reading.
// Bytes of the message that are not well-formed UTF-8 become U+FFFD.
std::string errorObject(const std::string& message);

}  // namespace sensorsys::agent
