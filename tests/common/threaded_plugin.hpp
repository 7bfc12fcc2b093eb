// For plugins whose own thread does the hardware work: create() returns at once and read()
// shows the thread's outcome a moment later, so a test reads until the outcome is there; and a
// fixture holding one built module for such a plugin's ABI tests.
// Thread-safety: none needed; used from the test's thread.
#pragma once

#include <sensorsys/plugin.h>

#include "built_plugin.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace sensorsys::test {

// Loads lib/sensorsys/<file> of the build through the agent's loader for each test.
class BuiltModuleTest : public ::testing::Test {
  protected:
    explicit BuiltModuleTest(std::string file) : _file(std::move(file)) {}

    void SetUp() override {
        _module = std::make_unique<BuiltPlugin>(SENSORSYS_PLUGIN_BUILD_DIR, _file);
        plugin = &_module->descriptor();
    }

    // Creates an instance; a refusal's text is left in `error`.
    sensorsys_status create(const char* config, sensorsys_instance** instance) {
        error.fill('\0');
        return plugin->create(config, instance, error.data(), error.size());
    }

    const sensorsys_plugin_descriptor* plugin = nullptr;
    std::array<char, 512> error{};

  private:
    std::string _file;
    std::unique_ptr<BuiltPlugin> _module;
};

// Reads `instance` until a read fails and returns that failure's status and message; gives up
// after about five seconds of successful reads (status SENSORSYS_OK). `onSuccess` sees the
// output of every successful read before then.
struct ReadFailure {
    sensorsys_status status = SENSORSYS_OK;
    std::string message;
};

inline ReadFailure firstReadFailure(const sensorsys_plugin_descriptor& plugin,
                                    sensorsys_instance* instance,
                                    const std::function<void(const std::string&)>& onSuccess = {}) {
    std::array<char, 512> buffer{};
    std::array<char, 512> error{};
    for (int attempt = 0; attempt < 500; ++attempt) {
        std::size_t length = 0;
        const sensorsys_status status = plugin.read(instance, buffer.data(), buffer.size(), &length,
                                                    error.data(), error.size());
        if (status != SENSORSYS_OK) return {status, error.data()};
        if (onSuccess) onSuccess(std::string(buffer.data(), length));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
}

}  // namespace sensorsys::test
