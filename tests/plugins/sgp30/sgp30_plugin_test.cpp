// The built sgp30.so through the agent's loader and the C ABI: descriptor and declared keys,
// configuration refusals, and a failing bus reported by read() with bus, address and errno.
#include <sensorsys/plugin.h>

#include "threaded_plugin.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using ::testing::HasSubstr;

class Sgp30Plugin : public sensorsys::test::BuiltModuleTest {
  protected:
    Sgp30Plugin() : BuiltModuleTest("sgp30.so") {}
};

TEST_F(Sgp30Plugin, DescribesItselfAndDeclaresItsKeysWithDefaults) {
    EXPECT_STREQ(plugin->name, "sgp30");
    EXPECT_EQ(plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
    ASSERT_NE(plugin->config_keys, nullptr);
    EXPECT_STREQ(plugin->config_keys[0].name, "bus");
    EXPECT_STREQ(plugin->config_keys[0].default_value, "/dev/i2c-1");
    EXPECT_STREQ(plugin->config_keys[1].name, "baseline_file");
    EXPECT_STREQ(plugin->config_keys[1].default_value, "");
    EXPECT_EQ(plugin->config_keys[2].name, nullptr);
}

TEST_F(Sgp30Plugin, RefusesBadConfigurationNamingTheKey) {
    sensorsys_instance* instance = nullptr;
    EXPECT_EQ(create(R"({"port": 1})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'port'"));
    EXPECT_EQ(create(R"({"bus": "i2c-1"})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'bus'"));
    EXPECT_EQ(create(R"({"baseline_file": "/nonexistent-sgp30/b.json"})", &instance),
              SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'baseline_file'"));
    EXPECT_EQ(instance, nullptr);
}

TEST_F(Sgp30Plugin, ReadReportsTheThreadsBusFailureWithBusAddressAndErrno) {
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(create(R"({"bus": "/nonexistent/i2c-7"})", &instance), SENSORSYS_OK) << error.data();
    const auto failure = sensorsys::test::firstReadFailure(
        *plugin, instance, [](auto& output) { EXPECT_EQ(output, R"({"warming_up": true})"); });
    plugin->destroy(instance);
    ASSERT_EQ(failure.status, SENSORSYS_READ_FAILED);
    const std::string& message = failure.message;
    EXPECT_THAT(message, HasSubstr("iaq_init"));
    EXPECT_THAT(message, HasSubstr("/nonexistent/i2c-7"));
    EXPECT_THAT(message, HasSubstr("0x58"));
    EXPECT_THAT(message, HasSubstr("ENOENT"));
}

}  // namespace
