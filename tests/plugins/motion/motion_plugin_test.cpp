// The built motion.so through the agent's loader and the C ABI: descriptor and declared keys,
// the required line, and a missing chip reported by read() with chip, line and errno.
#include <sensorsys/plugin.h>

#include "threaded_plugin.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using ::testing::HasSubstr;

class MotionPlugin : public sensorsys::test::BuiltModuleTest {
  protected:
    MotionPlugin() : BuiltModuleTest("motion.so") {}
};

TEST_F(MotionPlugin, DescribesItselfAndDeclaresItsKeys) {
    EXPECT_STREQ(plugin->name, "motion");
    EXPECT_EQ(plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
    ASSERT_NE(plugin->config_keys, nullptr);
    EXPECT_STREQ(plugin->config_keys[0].name, "chip");
    EXPECT_STREQ(plugin->config_keys[0].default_value, "gpiochip0");
    EXPECT_STREQ(plugin->config_keys[1].name, "line");
    EXPECT_STREQ(plugin->config_keys[1].type, "integer");
    EXPECT_EQ(plugin->config_keys[2].name, nullptr);
}

TEST_F(MotionPlugin, RefusesAMissingOrBadLineNamingTheKey) {
    sensorsys_instance* instance = nullptr;
    EXPECT_EQ(create("{}", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'line'"));
    EXPECT_EQ(create(R"({"line": -1})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'line'"));
    EXPECT_EQ(create(R"({"line": "17"})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'line'"));
    EXPECT_EQ(create(R"({"line": 17, "pin": 4})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'pin'"));
    EXPECT_EQ(instance, nullptr);
}

TEST_F(MotionPlugin, ReadReportsAMissingChipWithChipLineAndErrno) {
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(create(R"({"chip": "/dev/gpiochip-sensorsys-missing", "line": 17})", &instance),
              SENSORSYS_OK)
        << error.data();
    const auto failure = sensorsys::test::firstReadFailure(*plugin, instance);
    plugin->destroy(instance);
    ASSERT_EQ(failure.status, SENSORSYS_READ_FAILED);
    const std::string& message = failure.message;
    EXPECT_THAT(message, HasSubstr("/dev/gpiochip-sensorsys-missing"));
    EXPECT_THAT(message, HasSubstr("line 17"));
    EXPECT_THAT(message, HasSubstr("ENOENT"));
}

}  // namespace
