// The bme280 plugin's configuration keys ("bus", "address") turned into checked settings.
#pragma once

#include <sensorsys/plugin_support.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sensorsys::bme280 {

inline constexpr std::uint8_t kPrimaryAddress = 0x76;    // SDO to GND
inline constexpr std::uint8_t kSecondaryAddress = 0x77;  // SDO to VDDIO

// The keys an instance accepts, with their defaults (ended by a NULL name).
extern const sensorsys_config_key kConfigKeys[];

// Thread-safety: a plain value.
struct Settings {
    std::string bus;
    // Addresses to try in order; "auto" gives 0x77 then 0x76.
    std::vector<std::uint8_t> addresses{kSecondaryAddress, kPrimaryAddress};
};

// Throws plugin::ConfigError naming the key and what it allows.
Settings parseSettings(const plugin::Config& config);

}  // namespace sensorsys::bme280
