// The bh1750 plugin's keys as the host passes them: defaults from the declared table, both
// address spellings, and refusals that name the key and what it allows.
#include "bh1750_config.hpp"

#include "error_of.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using namespace sensorsys::bh1750;
using sensorsys::plugin::Config;
using sensorsys::plugin::ConfigError;
using testing::HasSubstr;

Settings parse(const char* json) {
    return parseSettings(Config(json, kConfigKeys));
}

std::string refusal(const char* json) {
    return sensorsys::test::errorOf<ConfigError>([&] { parse(json); });
}

TEST(Bh1750Config, DefaultsAreTheDeclaredOnes) {
    const Settings settings = parse("{}");
    EXPECT_EQ(settings.bus, "/dev/i2c-1");
    EXPECT_EQ(settings.address, 0x23);
    EXPECT_EQ(settings.mtreg, 69);
}

TEST(Bh1750Config, AcceptsBothAddressesAsStringsAndNumbers) {
    EXPECT_EQ(parse(R"({"address": "0x5c"})").address, 0x5c);
    EXPECT_EQ(parse(R"({"address": "0x5C"})").address, 0x5c);
    EXPECT_EQ(parse(R"({"address": 92})").address, 0x5c);
    EXPECT_EQ(parse(R"({"address": 35})").address, 0x23);
}

TEST(Bh1750Config, AcceptsMtregAtBothEnds) {
    EXPECT_EQ(parse(R"({"mtreg": 31})").mtreg, 31);
    EXPECT_EQ(parse(R"({"mtreg": 254})").mtreg, 254);
}

TEST(Bh1750Config, RefusesMtregOutsideItsRangeNamingKeyAndRange) {
    EXPECT_EQ(refusal(R"({"mtreg": 30})"), "key 'mtreg' must be an integer from 31 to 254, got 30");
    EXPECT_EQ(refusal(R"({"mtreg": 255})"),
              "key 'mtreg' must be an integer from 31 to 254, got 255");
    EXPECT_THAT(refusal(R"({"mtreg": "high"})"), HasSubstr("key 'mtreg' must be an integer"));
}

TEST(Bh1750Config, RefusesOtherAddressesBusesAndKeys) {
    EXPECT_EQ(refusal(R"({"address": "0x76"})"),
              R"(key 'address' must be "0x23" or "0x5c" (or the number 35 or 92), got "0x76")");
    EXPECT_THAT(refusal(R"({"address": 118})"), HasSubstr("got 118"));
    EXPECT_THAT(refusal(R"({"address": true})"), HasSubstr("'address'"));
    EXPECT_THAT(refusal(R"({"bus": "i2c-1"})"), HasSubstr("key 'bus' must be the absolute path"));
    EXPECT_THAT(refusal(R"({"gain": 2})"), HasSubstr("unknown key 'gain'"));
}

}  // namespace
