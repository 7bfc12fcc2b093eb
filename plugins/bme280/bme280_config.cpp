#include "bme280_config.hpp"

#include <sensorsys/i2c_config.hpp>

#include <algorithm>
#include <cctype>

#include <Poco/Exception.h>

namespace sensorsys::bme280 {
namespace {

const std::string kAddressAllowed = "\"auto\", \"0x76\" or \"0x77\" (or 118 or 119)";
constexpr std::uint8_t kAllowed[] = {kPrimaryAddress, kSecondaryAddress};

// "auto" in any case; any other value (or type) is left to i2c::addressFrom.
bool isAuto(const plugin::Config& config) {
    try {
        std::string text = config.getString("address", "auto");
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return text == "auto";
    } catch (const plugin::ConfigError&) {
        return false;
    } catch (const Poco::Exception&) {  // a JSON null
        return false;
    }
}

std::vector<std::uint8_t> parseAddress(const plugin::Config& config) {
    if (isAuto(config)) return Settings{}.addresses;
    if (const auto address = i2c::addressFrom(config, "address", kAllowed, kAddressAllowed)) {
        return {*address};
    }
    return Settings{}.addresses;
}

}  // namespace

const sensorsys_config_key kConfigKeys[] = {
    {"bus", "string", "/dev/i2c-1", "I2C bus device"},
    {"address", "string", "auto", "0x76, 0x77, or auto (0x77, then 0x76)"},
    {nullptr, nullptr, nullptr, nullptr}};

Settings parseSettings(const plugin::Config& config) {
    Settings settings;
    settings.bus = i2c::busFrom(config, "bus", kConfigKeys[0].default_value);
    settings.addresses = parseAddress(config);
    return settings;
}

}  // namespace sensorsys::bme280
