// The built disk.so through the C ABI, as the agent loads it.
#include <sensorsys/plugin.h>

#include "built_plugin.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

namespace {

using testing::HasSubstr;
using testing::MatchesRegex;

class DiskPlugin : public testing::Test {
  protected:
    void SetUp() override {
        _module =
            std::make_unique<sensorsys::test::BuiltPlugin>(SENSORSYS_PLUGIN_BUILD_DIR, "disk.so");
        plugin = &_module->descriptor();
    }

    // Creates an instance from `config`, reads once and destroys it.
    sensorsys_status readOnce(const char* config, std::string& output) {
        sensorsys_instance* instance = nullptr;
        const auto created = plugin->create(config, &instance, error.data(), error.size());
        if (created != SENSORSYS_OK) return created;
        std::array<char, 256> buffer{};
        std::size_t length = 0;
        const auto status = plugin->read(instance, buffer.data(), buffer.size(), &length,
                                         error.data(), error.size());
        plugin->destroy(instance);
        if (status == SENSORSYS_OK) output.assign(buffer.data(), length);
        return status;
    }

    const sensorsys_plugin_descriptor* plugin = nullptr;
    std::array<char, 512> error{};

  private:
    std::unique_ptr<sensorsys::test::BuiltPlugin> _module;
};

TEST_F(DiskPlugin, Describes) {
    EXPECT_STREQ(plugin->name, "disk");
    EXPECT_EQ(plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
}

TEST_F(DiskPlugin, ReadsRootByDefault) {
    std::string output;
    ASSERT_EQ(readOnce("{}", output), SENSORSYS_OK) << error.data();
    EXPECT_THAT(output,
                MatchesRegex(R"(\{"total_mb": [0-9]+, "used_mb": [0-9]+, "free_mb": [0-9]+\})"));
}

TEST_F(DiskPlugin, ReportsReadFailureNamingThePath) {
    std::string output;
    EXPECT_EQ(readOnce(R"({"path": "/nope"})", output), SENSORSYS_READ_FAILED);
    EXPECT_STREQ(error.data(), "statvfs /nope: ENOENT: No such file or directory");
}

TEST_F(DiskPlugin, RefusesBadConfig) {
    std::string output;
    EXPECT_EQ(readOnce(R"({"paths": "/"})", output), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'paths'"));
}

}  // namespace
