// One configured sensor: a plugin instance with its own name and configuration. Its name is
// the reading's payload key. create() and read() are called by one thread at a time
// (tryBeginRead guards that across abandoned calls); recordCallsIn() comes before the first
// call; the other members are immutable after construction.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "call_note.hpp"
#include "hosted_plugin.hpp"
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
    // Does not call the plugin: create() does, so that a slow create can run off the main
    // thread under its own deadline.
    SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                   std::string config_json, std::size_t output_cap = kDefaultOutputCap);
    // The same instance run in a sensorsys-plugin-host process (plugins.isolation = process):
    // create() and read() go to the host; the plugin is not called in this process.
    SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                   std::string config_json, HostOptions host);
    SensorInstance(const SensorInstance&) = delete;
    SensorInstance& operator=(const SensorInstance&) = delete;

    const std::string& name() const { return _name; }
    const LoadedPlugin& plugin() const { return *_plugin; }
    const std::string& config() const { return _config; }

    // Marks every call into the plugin in `note`'s slot `slot`, so a crash can be traced to it.
    void recordCallsIn(std::shared_ptr<const CallNote> note, std::size_t slot);

    // Creates the plugin instance unless it exists. Returns an empty string on success, else
    // the reason. Throws SensorConfigError when the plugin refuses the configuration; any
    // other failure is retried at each read and reported there.
    std::string create();

    // create() for a pool thread: returns "" or an {"error": ...} object, and keeps a refusal
    // of the configuration in refusal() instead of throwing it.
    std::string createKeepingRefusal();
    // Set when createKeepingRefusal() met a refusal; read it after that call has returned.
    const std::optional<std::string>& refusal() const { return _refusal; }

    // One reading: the plugin's JSON object, or {"error": "..."} saying what went wrong.
    // Creates the plugin instance first when it does not exist yet. Never throws.
    std::string read();

    // Claims the instance for one call; false while an earlier call is still running.
    bool tryBeginRead() { return !_busy.exchange(true); }
    void endRead() { _busy.store(false); }
    bool readInFlight() const { return _busy.load(); }
    // True while the plugin's create is running (and so holds the instance).
    bool creating() const { return _creating.load(); }

    // True when the plugin runs in a host process; restarts of that host so far (else 0).
    bool isolated() const { return _hosted != nullptr; }
    int hostRestarts() const { return _hosted ? _hosted->restarts() : 0; }

  private:
    using Handle = std::unique_ptr<sensorsys_instance, sensorsys_destroy_fn>;

    std::string readCreated();

    std::string _name;
    std::shared_ptr<const LoadedPlugin> _plugin;  // declared before _handle: outlives it
    std::string _config;
    std::size_t _outputCap;
    Handle _handle;
    std::atomic<bool> _busy{false};
    std::atomic<bool> _creating{false};
    std::optional<std::string> _refusal;
    std::shared_ptr<const CallNote> _note;
    std::size_t _noteSlot = 0;
    std::string _creatingText;
    std::string _readingText;
    std::unique_ptr<HostedPlugin> _hosted;
};

}  // namespace sensorsys::agent
