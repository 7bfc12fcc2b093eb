// The built exec.so, loaded through the agent's own loader: what it declares, a command's
// reading and failure crossing the ABI, and an unconfigured instance that must not stop the
// agent from starting.
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

TEST(ExecModule, DescribesItselfAndDeclaresItsKeys) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "exec.so");
    const auto& plugin = module.descriptor();
    EXPECT_STREQ(plugin.name, "exec");
    ASSERT_NE(plugin.config_keys, nullptr);
    EXPECT_STREQ(plugin.config_keys[0].name, "command");
    EXPECT_STREQ(plugin.config_keys[1].name, "shell");
    EXPECT_STREQ(plugin.config_keys[1].type, "boolean");
    EXPECT_STREQ(plugin.config_keys[2].name, "timeout");
    EXPECT_STREQ(plugin.config_keys[2].default_value, "10");
    EXPECT_THAT(plugin.config_keys[2].description, HasSubstr("agent.read_timeout"));
    EXPECT_EQ(plugin.config_keys[3].name, nullptr);
}

TEST(ExecModule, ReadsACommandsJsonThroughTheAbi) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "exec.so");
    PluginInstance instance(module.descriptor(),
                            R"({"command": "printf '{\"level\": %d}' 7", "timeout": 5})");
    const auto reading = instance.read(4);  // too small at first: the retry gets the same text
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    EXPECT_EQ(reading.text, R"({"level": 7})");
}

TEST(ExecModule, FailureCrossesTheAbiAsAMessageNamingTheCommand) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "exec.so");
    PluginInstance instance(module.descriptor(),
                            R"({"command": "echo oops >&2; exit 3", "shell": true})");
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_EQ(reading.text, R"(command "echo oops >&2; exit 3" exited with status 3: "oops")");
}

TEST(ExecModule, UnconfiguredInstanceCreatesAndReportsOnRead) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "exec.so");
    PluginInstance instance(module.descriptor(), "{}");
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_THAT(reading.text, HasSubstr("no command configured"));
}

TEST(ExecModule, RefusesUnknownKeysAndBadValues) {
    const BuiltPlugin module(SENSORSYS_PLUGIN_BUILD_DIR, "exec.so");
    auto refused = tryCreate(module.descriptor(), R"({"cmd": "true"})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(refused.text, HasSubstr("unknown key 'cmd' (allowed: command, shell, timeout)"));
    refused = tryCreate(module.descriptor(), R"({"command": "true", "shell": "yes"})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(refused.text, HasSubstr("'shell'"));
}

}  // namespace
