// The built bh1750.so, loaded through the agent's own loader: what it declares, what it
// refuses, and a read on a missing bus crossing the ABI as a message naming bus, address, errno.
#include "built_plugin.hpp"
#include "plugin_call.hpp"

#include <sensorsys/plugin.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using sensorsys::test::BuiltPlugin;
using sensorsys::test::PluginInstance;
using sensorsys::test::tryCreate;
using testing::HasSubstr;

TEST(Bh1750Module, DescribesItselfAndDeclaresItsKeys) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "bh1750.so");
    const auto& plugin = module.descriptor();
    EXPECT_STREQ(plugin.name, "bh1750");
    EXPECT_THAT(plugin.description, HasSubstr("BH1750"));
    ASSERT_NE(plugin.config_keys, nullptr);
    EXPECT_STREQ(plugin.config_keys[0].name, "bus");
    EXPECT_STREQ(plugin.config_keys[1].name, "address");
    EXPECT_STREQ(plugin.config_keys[1].default_value, "0x23");
    EXPECT_STREQ(plugin.config_keys[2].name, "mtreg");
    EXPECT_STREQ(plugin.config_keys[2].type, "integer");
    EXPECT_EQ(plugin.config_keys[3].name, nullptr);
}

TEST(Bh1750Module, RefusesBadMtregAndUnknownKeys) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "bh1750.so");
    auto refused = tryCreate(module.descriptor(), R"({"mtreg": 300})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_EQ(refused.text, "key 'mtreg' must be an integer from 31 to 254, got 300");
    refused = tryCreate(module.descriptor(), R"({"mode": "continuous"})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(refused.text, HasSubstr("unknown key 'mode' (allowed: bus, address, mtreg)"));
}

TEST(Bh1750Module, ReadOnMissingBusNamesBusAddressAndErrno) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "bh1750.so");
    PluginInstance instance(module.descriptor(),
                            R"({"bus": "/nonexistent/i2c-1", "address": 92, "mtreg": 100})");
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_THAT(
        reading.text,
        testing::StartsWith("cannot open I2C bus /nonexistent/i2c-1 for device 0x5C: ENOENT"));
}

}  // namespace
