// The built disk.so through the C ABI, as the agent loads it.
#include <sensorsys/plugin.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <array>
#include <memory>
#include <string>

namespace {

using testing::HasSubstr;
using testing::MatchesRegex;

struct Closer {
    void operator()(void* handle) const { ::dlclose(handle); }
};

class diskPlugin : public testing::Test {
  protected:
    void SetUp() override {
        const std::string path = std::string(SENSORSYS_PLUGIN_BUILD_DIR) + "/disk.so";
        _module.reset(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
        ASSERT_TRUE(_module) << ::dlerror();
        const auto entry =
            reinterpret_cast<sensorsys_entry_fn>(::dlsym(_module.get(), SENSORSYS_ENTRY_SYMBOL));
        ASSERT_NE(entry, nullptr) << ::dlerror();
        plugin = entry(SENSORSYS_ABI_MAJOR, SENSORSYS_ABI_MINOR);
        ASSERT_NE(plugin, nullptr);
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
    std::unique_ptr<void, Closer> _module;
};

TEST_F(diskPlugin, Describes) {
    EXPECT_STREQ(plugin->name, "disk");
    EXPECT_EQ(plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
}

TEST_F(diskPlugin, ReadsRootByDefault) {
    std::string output;
    ASSERT_EQ(readOnce("{}", output), SENSORSYS_OK) << error.data();
    EXPECT_THAT(output,
                MatchesRegex(R"(\{"total_mb": [0-9]+, "used_mb": [0-9]+, "free_mb": [0-9]+\})"));
}

TEST_F(diskPlugin, ReportsReadFailureNamingThePath) {
    std::string output;
    EXPECT_EQ(readOnce(R"({"path": "/nope"})", output), SENSORSYS_READ_FAILED);
    EXPECT_STREQ(error.data(), "statvfs /nope: ENOENT: No such file or directory");
}

TEST_F(diskPlugin, RefusesBadConfig) {
    std::string output;
    EXPECT_EQ(readOnce(R"({"paths": "/"})", output), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(std::string(error.data()), HasSubstr("'paths'"));
}

}  // namespace
