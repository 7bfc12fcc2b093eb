// The configuration keys every I2C plugin has ("bus", "address"), read and checked the same way
// so their values and refusals read alike across plugins. Part of sensorsys_i2c.
// Thread-safety: pure functions.
#pragma once

#include <sensorsys/plugin_support.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sensorsys::i2c {

// The bus key's value (`fallback` when absent: pass the constant the plugin's key table uses).
// Throws plugin::ConfigError unless it is a string holding an absolute path: a relative one
// would depend on the agent's working directory.
std::string busFrom(const plugin::Config& config, const std::string& key,
                    const std::string& fallback);

// The address key's value when present: "0x23" (any case) or the number the host makes of a
// hex literal (35), one of `allowed`. Throws plugin::ConfigError "key 'KEY' must be
// ALLOWED_TEXT, got ..." otherwise.
std::optional<std::uint8_t> addressFrom(const plugin::Config& config, const std::string& key,
                                        std::span<const std::uint8_t> allowed,
                                        const std::string& allowedText);

}  // namespace sensorsys::i2c
