// The bme280 configuration keys and their refusals.
#include "bme280_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace sensorsys::bme280;
using sensorsys::plugin::Config;
using sensorsys::plugin::ConfigError;
using ::testing::HasSubstr;

using Addresses = std::vector<std::uint8_t>;

std::string refusal(const char* json) {
    try {
        parseSettings(Config(json, kConfigKeys));
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << json << " was accepted";
    return {};
}

TEST(Bme280Config, DefaultsToBus1AndAutoAddress) {
    const Settings settings = parseSettings(Config("{}", kConfigKeys));
    EXPECT_EQ(settings.bus, "/dev/i2c-1");
    EXPECT_EQ(settings.addresses, (Addresses{0x77, 0x76}));
}

TEST(Bme280Config, AcceptsAddressStrings) {
    EXPECT_EQ(parseSettings(Config(R"({"address": "auto"})", kConfigKeys)).addresses,
              (Addresses{0x77, 0x76}));
    EXPECT_EQ(parseSettings(Config(R"({"address": "0x76"})", kConfigKeys)).addresses,
              Addresses{0x76});
    EXPECT_EQ(parseSettings(Config(R"({"address": "0x77"})", kConfigKeys)).addresses,
              Addresses{0x77});
    EXPECT_EQ(parseSettings(Config(R"({"address": "0X77"})", kConfigKeys)).addresses,
              Addresses{0x77});
}

TEST(Bme280Config, AcceptsDecimalAddressStringsAsAnAbi11HostSendsThem) {
    EXPECT_EQ(parseSettings(Config(R"({"address": "118"})", kConfigKeys)).addresses,
              Addresses{0x76});
    EXPECT_EQ(parseSettings(Config(R"({"address": "119"})", kConfigKeys)).addresses,
              Addresses{0x77});
}

TEST(Bme280Config, AcceptsAddressNumbersAsTheHostSendsThem) {
    EXPECT_EQ(parseSettings(Config(R"({"address": 118})", kConfigKeys)).addresses, Addresses{0x76});
    EXPECT_EQ(parseSettings(Config(R"({"address": 119})", kConfigKeys)).addresses, Addresses{0x77});
}

TEST(Bme280Config, AcceptsAnotherBus) {
    EXPECT_EQ(parseSettings(Config(R"({"bus": "/dev/i2c-0", "address": 118})", kConfigKeys)).bus,
              "/dev/i2c-0");
}

TEST(Bme280Config, RefusesOtherAddresses) {
    for (const char* json :
         {R"({"address": 80})", R"({"address": "0x78"})", R"({"address": ""})",
          R"({"address": "120"})", R"({"address": true})", R"({"address": 118.5})",
          R"({"address": null})", R"({"address": [118]})"}) {
        const std::string message = refusal(json);
        EXPECT_THAT(message, HasSubstr("'address'")) << json;
        EXPECT_THAT(message, HasSubstr(R"("auto", "0x76" or "0x77")")) << json;
    }
    EXPECT_THAT(refusal(R"({"address": 80})"), HasSubstr("got 80"));
    EXPECT_THAT(refusal(R"({"address": "0x78"})"), HasSubstr(R"(got "0x78")"));
}

TEST(Bme280Config, RefusesBadBus) {
    for (const char* json :
         {R"({"bus": ""})", R"({"bus": "i2c-1"})", R"({"bus": 1})", R"({"bus": null})"}) {
        EXPECT_THAT(refusal(json), HasSubstr("'bus'")) << json;
    }
    EXPECT_THAT(refusal(R"({"bus": "i2c-1"})"), HasSubstr("absolute path"));
}

TEST(Bme280Config, RefusesUnknownKeys) {
    const std::string message = refusal(R"({"bus": "/dev/i2c-1", "interval": 5})");
    EXPECT_THAT(message, HasSubstr("'interval'"));
    EXPECT_THAT(message, HasSubstr("bus, address"));
}

}  // namespace
