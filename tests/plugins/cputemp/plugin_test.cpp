// The built cpu_temp.so through the C ABI, as the agent loads it.
#include <sensorsys/plugin.h>

#include "built_plugin.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

namespace {

using testing::HasSubstr;

const std::string kDataDir = std::string(SENSORSYS_TEST_DATA_DIR) + "/cputemp";

class CpuTempPlugin : public testing::Test {
  protected:
    void SetUp() override {
        _module = std::make_unique<sensorsys::test::BuiltPlugin>(SENSORSYS_PLUGIN_BUILD_DIR,
                                                                 "cpu_temp.so");
        plugin = &_module->descriptor();
    }

    const sensorsys_plugin_descriptor* plugin = nullptr;
    std::array<char, 512> error{};

  private:
    std::unique_ptr<sensorsys::test::BuiltPlugin> _module;
};

TEST_F(CpuTempPlugin, Describes) {
    EXPECT_STREQ(plugin->name, "cpu_temp");
    EXPECT_EQ(plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
}

TEST_F(CpuTempPlugin, ReadsSysfsFixture) {
    const std::string config =
        R"({"source": "sysfs", "sysfs_path": ")" + kDataDir + R"(/thermal_zone0_temp"})";
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(plugin->create(config.c_str(), &instance, error.data(), error.size()), SENSORSYS_OK)
        << error.data();
    std::array<char, 256> buffer{};
    std::size_t length = 0;
    const auto status =
        plugin->read(instance, buffer.data(), buffer.size(), &length, error.data(), error.size());
    plugin->destroy(instance);
    ASSERT_EQ(status, SENSORSYS_OK) << error.data();
    EXPECT_EQ(std::string(buffer.data(), length), R"({"c": 48.31, "f": 118.96})");
}

TEST_F(CpuTempPlugin, ReportsReadFailure) {
    const std::string config = R"({"source": "sysfs", "sysfs_path": "/nonexistent/temp"})";
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(plugin->create(config.c_str(), &instance, error.data(), error.size()), SENSORSYS_OK)
        << error.data();
    std::array<char, 256> buffer{};
    std::size_t length = 0;
    const auto status =
        plugin->read(instance, buffer.data(), buffer.size(), &length, error.data(), error.size());
    plugin->destroy(instance);
    EXPECT_EQ(status, SENSORSYS_READ_FAILED);
    EXPECT_STREQ(error.data(),
                 "sysfs: cannot read /nonexistent/temp: ENOENT: No such file or directory");
}

TEST_F(CpuTempPlugin, RefusesBadConfig) {
    sensorsys_instance* instance = nullptr;
    EXPECT_EQ(plugin->create(R"({"source": "sensors"})", &instance, error.data(), error.size()),
              SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'source'"));
}

}  // namespace
