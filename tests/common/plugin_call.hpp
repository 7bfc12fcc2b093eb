// Calls into a loaded plugin's C ABI the way the agent does (create, read with a growing
// buffer, destroy), so plugin tests assert on outcomes instead of repeating the plumbing.
// Thread-safety: one PluginInstance is used by one test thread, as plugin.h requires.
#pragma once

#include <sensorsys/plugin.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace sensorsys::test {

// What one call returned: its status and the output (on success) or the error text.
struct PluginCall {
    sensorsys_status status = SENSORSYS_INTERNAL_ERROR;
    std::string text;
};

// create() with `config`; on success the instance is destroyed again at once.
inline PluginCall tryCreate(const sensorsys_plugin_descriptor& plugin, const std::string& config) {
    std::array<char, 1024> error{};
    sensorsys_instance* instance = nullptr;
    const sensorsys_status status =
        plugin.create(config.c_str(), &instance, error.data(), error.size());
    if (status == SENSORSYS_OK) plugin.destroy(instance);
    return {status, status == SENSORSYS_OK ? std::string() : std::string(error.data())};
}

// One instance of a plugin, destroyed at the end of its scope.
class PluginInstance {
  public:
    // Throws std::runtime_error with the plugin's message when create() refuses `config`.
    PluginInstance(const sensorsys_plugin_descriptor& plugin, const std::string& config)
        : _plugin(plugin) {
        std::array<char, 1024> error{};
        if (plugin.create(config.c_str(), &_instance, error.data(), error.size()) != SENSORSYS_OK) {
            throw std::runtime_error("create refused " + config + ": " + error.data());
        }
    }
    PluginInstance(const PluginInstance&) = delete;
    PluginInstance& operator=(const PluginInstance&) = delete;
    ~PluginInstance() { _plugin.destroy(_instance); }

    // One read, starting with a buffer of `capacity` bytes and growing it as the plugin asks.
    PluginCall read(std::size_t capacity = 4096) {
        std::array<char, 1024> error{};
        std::vector<char> buffer(capacity);
        for (int attempt = 0; attempt < 3; ++attempt) {
            std::size_t length = 0;
            const sensorsys_status status = _plugin.read(_instance, buffer.data(), buffer.size(),
                                                         &length, error.data(), error.size());
            if (status == SENSORSYS_BUFFER_TOO_SMALL) {
                buffer.resize(length);
                continue;
            }
            if (status != SENSORSYS_OK) return {status, error.data()};
            return {status, std::string(buffer.data(), length)};
        }
        return {SENSORSYS_BUFFER_TOO_SMALL, "the plugin asked for a larger buffer three times"};
    }

    // A single read() call into a buffer of `capacity` bytes; *length gets what it reported.
    sensorsys_status readOnce(std::size_t capacity, std::size_t* length) {
        std::array<char, 1024> error{};
        std::vector<char> buffer(capacity + 1);
        return _plugin.read(_instance, buffer.data(), capacity, length, error.data(), error.size());
    }

  private:
    const sensorsys_plugin_descriptor& _plugin;
    sensorsys_instance* _instance = nullptr;
};

}  // namespace sensorsys::test
