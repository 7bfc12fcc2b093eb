#include "bme280_config.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <Poco/Exception.h>

namespace sensorsys::bme280 {
namespace {

const std::string kBusAllowed = "the absolute path of an I2C bus device such as /dev/i2c-1";
const std::string kAddressAllowed = "\"auto\", \"0x76\" or \"0x77\" (or 118 or 119)";

// The value a Config getter returns, or nothing when the value has another JSON type. Config
// throws a Poco exception rather than ConfigError for a JSON null, so that counts too.
template <class Getter>
auto ifType(Getter get) -> std::optional<decltype(get())> {
    try {
        return get();
    } catch (const plugin::ConfigError&) {
        return std::nullopt;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

plugin::ConfigError badAddress(const std::string& got) {
    return plugin::ConfigError("key 'address' must be " + kAddressAllowed + ", got " + got);
}

std::vector<std::uint8_t> parseAddress(const plugin::Config& config) {
    if (!config.has("address")) return Settings{}.addresses;
    if (const auto text = ifType([&] { return config.getString("address", "auto"); })) {
        std::string lower = *text;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower == "auto") return Settings{}.addresses;
        // A host of ABI 1.1 passes the declared string as written, decimal spellings included.
        if (lower == "0x76" || lower == "118") return {kPrimaryAddress};
        if (lower == "0x77" || lower == "119") return {kSecondaryAddress};
        throw badAddress("\"" + *text + "\"");
    }
    // A 1.0 host turns hex literals into JSON numbers, so 0x76 arrives as 118.
    if (const auto number = ifType([&] { return config.getInt("address", 0); })) {
        if (*number == kPrimaryAddress || *number == kSecondaryAddress) {
            return {static_cast<std::uint8_t>(*number)};
        }
        throw badAddress(std::to_string(*number));
    }
    throw badAddress("a value that is neither a string nor an integer");
}

}  // namespace

const sensorsys_config_key kConfigKeys[] = {
    {"bus", "string", "/dev/i2c-1", "I2C bus device"},
    {"address", "string", "auto", "0x76, 0x77, or auto (0x77, then 0x76)"},
    {nullptr, nullptr, nullptr, nullptr}};

Settings parseSettings(const plugin::Config& config) {
    Settings settings;
    const auto bus = ifType([&] { return config.getString("bus"); });
    if (!bus) throw plugin::ConfigError("key 'bus' must be " + kBusAllowed + ", got a non-string");
    // A relative path would depend on the agent's working directory.
    if (bus->empty() || bus->front() != '/') {
        throw plugin::ConfigError("key 'bus' must be " + kBusAllowed + ", got \"" + *bus + "\"");
    }
    settings.bus = *bus;
    settings.addresses = parseAddress(config);
    return settings;
}

}  // namespace sensorsys::bme280
