// The bh1750 plugin's configuration keys ("bus", "address", "mtreg") turned into checked
// settings, and the key table the plugin declares.
#pragma once

#include "bh1750_driver.hpp"

#include <sensorsys/plugin_support.hpp>

#include <cstdint>
#include <string>

namespace sensorsys::bh1750 {

inline constexpr const char* kDefaultBus = "/dev/i2c-1";

// The keys create() accepts (ABI 1.1), ended by an entry with a NULL name.
extern const sensorsys_config_key kConfigKeys[];

// Thread-safety: a plain value.
struct Settings {
    std::string bus = kDefaultBus;
    std::uint8_t address = kAddressLow;
    int mtreg = kDefaultMtreg;
};

// Throws plugin::ConfigError naming the key and what it allows.
Settings parseSettings(const plugin::Config& config);

}  // namespace sensorsys::bh1750
