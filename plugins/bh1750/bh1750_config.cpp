#include "bh1750_config.hpp"

#include <sensorsys/i2c_config.hpp>

namespace sensorsys::bh1750 {

const sensorsys_config_key kConfigKeys[] = {
    {"bus", "string", kDefaultBus, "I2C bus device"},
    {"address", "string", "0x23", "0x23 (ADDR pin low or open) or 0x5c (ADDR pin high)"},
    {"mtreg", "integer", "69",
     "measurement time register, 31 to 254: higher is more sensitive and slower (69: 180 ms)"},
    {}};

namespace {

const std::string kAddressAllowed = "\"0x23\" or \"0x5c\" (or the number 35 or 92)";
constexpr std::uint8_t kAllowed[] = {kAddressLow, kAddressHigh};

int parseMtreg(const plugin::Config& config) {
    const std::string allowed =
        "an integer from " + std::to_string(kMinMtreg) + " to " + std::to_string(kMaxMtreg);
    std::int64_t mtreg = 0;
    try {
        mtreg = config.getInt("mtreg");
    } catch (const plugin::ConfigError&) {
        throw plugin::ConfigError("key 'mtreg' must be " + allowed + ", got a non-integer");
    }
    if (mtreg < kMinMtreg || mtreg > kMaxMtreg) {
        throw plugin::ConfigError("key 'mtreg' must be " + allowed + ", got " +
                                  std::to_string(mtreg));
    }
    return static_cast<int>(mtreg);
}

}  // namespace

Settings parseSettings(const plugin::Config& config) {
    Settings settings;
    settings.bus = i2c::busFrom(config, "bus", kDefaultBus);
    settings.address =
        i2c::addressFrom(config, "address", kAllowed, kAddressAllowed).value_or(kAddressLow);
    settings.mtreg = parseMtreg(config);
    return settings;
}

}  // namespace sensorsys::bh1750
