#include "sensorsys/i2c_config.hpp"

#include "sensorsys/i2c_bus.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/Exception.h>

namespace sensorsys::i2c {
namespace {

const std::string kBusAllowed = "the absolute path of an I2C bus device such as /dev/i2c-1";

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

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool isAllowed(std::int64_t value, std::span<const std::uint8_t> allowed) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

}  // namespace

std::string busFrom(const plugin::Config& config, const std::string& key,
                    const std::string& fallback) {
    const auto bus = ifType([&] { return config.getString(key, fallback); });
    if (!bus) {
        throw plugin::ConfigError("key '" + key + "' must be " + kBusAllowed +
                                  ", got a non-string");
    }
    if (bus->empty() || bus->front() != '/') {
        throw plugin::ConfigError("key '" + key + "' must be " + kBusAllowed + ", got \"" + *bus +
                                  "\"");
    }
    return *bus;
}

std::optional<std::uint8_t> addressFrom(const plugin::Config& config, const std::string& key,
                                        std::span<const std::uint8_t> allowed,
                                        const std::string& allowedText) {
    if (!config.has(key)) return std::nullopt;
    const auto refuse = [&](const std::string& got) {
        return plugin::ConfigError("key '" + key + "' must be " + allowedText + ", got " + got);
    };
    if (const auto text = ifType([&] { return config.getString(key, ""); })) {
        const std::string lower = lowercase(*text);
        for (const std::uint8_t address : allowed) {
            // An ABI 1.1 host passes a declared string key as written: "0x76" or "118".
            if (lower == lowercase(hexByte(address)) || lower == std::to_string(address)) {
                return address;
            }
        }
        throw refuse("\"" + *text + "\"");
    }
    // The host turns hex literals into JSON numbers, so 0x23 arrives as 35.
    if (const auto number = ifType([&] { return config.getInt(key, 0); })) {
        if (isAllowed(*number, allowed)) return static_cast<std::uint8_t>(*number);
        throw refuse(std::to_string(*number));
    }
    throw refuse("a value that is neither a string nor an integer");
}

}  // namespace sensorsys::i2c
