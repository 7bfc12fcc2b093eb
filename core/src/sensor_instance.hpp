// One configured sensor: a plugin instance with its own name and configuration. Its name is
// the reading's payload key. read() is called by one thread at a time (tryBeginRead guards
// that across abandoned reads); the other members are immutable after construction.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "plugin_loader.hpp"
#include "plugin_output.hpp"

namespace sensorsys::agent {

// The plugin refused the instance's configuration (SENSORSYS_INVALID_CONFIG).
class SensorConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class SensorInstance {
  public:
    // Creates the plugin instance. Throws SensorConfigError when the plugin refuses the
    // configuration; any other failure to create is retried at each read and reported there.
    SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                   std::string config_json, std::size_t output_cap = kDefaultOutputCap);
    SensorInstance(const SensorInstance&) = delete;
    SensorInstance& operator=(const SensorInstance&) = delete;

    const std::string& name() const { return _name; }
    const LoadedPlugin& plugin() const { return *_plugin; }
    const std::string& config() const { return _config; }

    // One reading: the plugin's JSON object, or {"error": "..."} saying what went wrong.
    // Never throws.
    std::string read();

    // Claims the instance for one read; false while an earlier read is still running.
    bool tryBeginRead() { return !_busy.exchange(true); }
    void endRead() { _busy.store(false); }
    bool readInFlight() const { return _busy.load(); }

  private:
    using Handle = std::unique_ptr<sensorsys_instance, sensorsys_destroy_fn>;

    // Returns an empty string on success, else the reason. Throws SensorConfigError.
    std::string create();

    std::string _name;
    std::shared_ptr<const LoadedPlugin> _plugin;  // declared before _handle: outlives it
    std::string _config;
    std::size_t _outputCap;
    Handle _handle;
    std::atomic<bool> _busy{false};
};

}  // namespace sensorsys::agent
