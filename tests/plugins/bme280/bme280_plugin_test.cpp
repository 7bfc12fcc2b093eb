// The built bme280.so through the C ABI, as the agent loads it: descriptor, configuration
// refusals, and a read error crossing the boundary as a message.
#include <sensorsys/plugin.h>

#include <dlfcn.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct DlClose {
    void operator()(void* handle) const { ::dlclose(handle); }
};

// The plugin module loaded for one test, unloaded at its end.
class Module {
  public:
    Module() : _handle(::dlopen(SENSORSYS_PLUGIN_BUILD_DIR "/bme280.so", RTLD_NOW | RTLD_LOCAL)) {
        if (!_handle) throw std::runtime_error(::dlerror());
        entry =
            reinterpret_cast<sensorsys_entry_fn>(::dlsym(_handle.get(), SENSORSYS_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no " SENSORSYS_ENTRY_SYMBOL);
        plugin = entry(SENSORSYS_ABI_MAJOR, SENSORSYS_ABI_MINOR);
        if (plugin == nullptr) throw std::runtime_error("the plugin refused this host");
    }

    // Creates an instance; any error text is left in error().
    sensorsys_status create(const char* json, sensorsys_instance** instance) {
        _error.fill('\0');
        return plugin->create(json, instance, _error.data(), _error.size());
    }
    std::string error() const { return _error.data(); }

    sensorsys_entry_fn entry = nullptr;
    const sensorsys_plugin_descriptor* plugin = nullptr;

  private:
    std::unique_ptr<void, DlClose> _handle;
    std::array<char, 512> _error{};
};

TEST(Bme280Module, DescribesItself) {
    Module module;
    EXPECT_STREQ(module.plugin->name, "bme280");
    EXPECT_EQ(module.plugin->struct_size, sizeof(sensorsys_plugin_descriptor));
    EXPECT_EQ(module.plugin->abi_major, SENSORSYS_ABI_MAJOR);
    EXPECT_NE(module.plugin->version, nullptr);
    EXPECT_THAT(module.plugin->description, HasSubstr("BME280"));
    EXPECT_EQ(module.entry(SENSORSYS_ABI_MAJOR + 1, 0), nullptr);
}

TEST(Bme280Module, CreatesWithoutTouchingHardware) {
    Module module;
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(module.create(R"({"bus": "/nonexistent/i2c-1", "address": 118})", &instance),
              SENSORSYS_OK);
    module.plugin->destroy(instance);
    ASSERT_EQ(module.create("{}", &instance), SENSORSYS_OK);
    module.plugin->destroy(instance);
    module.plugin->destroy(nullptr);
}

TEST(Bme280Module, RefusesBadConfiguration) {
    Module module;
    sensorsys_instance* instance = nullptr;
    EXPECT_EQ(module.create(R"({"address": 80})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(module.error(), HasSubstr("'address'"));
    EXPECT_EQ(module.create(R"({"bus": null})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(module.error(), HasSubstr("'bus'"));
    EXPECT_EQ(module.create(R"({"port": 1})", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_THAT(module.error(), HasSubstr("'port'"));
    EXPECT_EQ(module.create("[1]", &instance), SENSORSYS_INVALID_CONFIG);
    EXPECT_EQ(instance, nullptr);
}

TEST(Bme280Module, ReadOnMissingBusFailsWithItsPathAndErrno) {
    Module module;
    sensorsys_instance* instance = nullptr;
    ASSERT_EQ(module.create(R"({"bus": "/nonexistent/i2c-1"})", &instance), SENSORSYS_OK);
    std::array<char, 256> buffer{};
    std::array<char, 512> message{};
    std::size_t length = 0;
    EXPECT_EQ(module.plugin->read(instance, buffer.data(), buffer.size(), &length, message.data(),
                                  message.size()),
              SENSORSYS_READ_FAILED);
    EXPECT_THAT(std::string(message.data()),
                StartsWith("cannot open I2C bus /nonexistent/i2c-1 for device 0x77: ENOENT"));
    module.plugin->destroy(instance);
}

}  // namespace
