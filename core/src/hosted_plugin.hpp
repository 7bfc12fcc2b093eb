// One sensor instance run in a sensorsys-plugin-host process (plugins.isolation = process): the
// agent's side of host_protocol.hpp. It spawns the host (working directory /, umask 022, a
// clean environment, the address-space limit sensor.NAME.memory_max), logs what the plugin
// writes to stdout/stderr line by line prefixed with the sensor name, and kills (SIGKILL),
// reaps and restarts a host that crashes or misses its deadline, with exponential backoff.
// Thread-safety: create() and read() are called by one thread at a time (SensorInstance
// guarantees it); restarts() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <Poco/Logger.h>

namespace sensorsys::agent {

struct HostOptions {
    std::filesystem::path hostBinary;  // sensorsys-plugin-host
    std::uint64_t memoryMax = std::uint64_t{64} << 20;
    std::chrono::milliseconds readTimeout{5'000};
    std::chrono::milliseconds createTimeout{10'000};
    Poco::Logger* logger = nullptr;  // where plugin output and host deaths go; none: dropped
};

class HostProcess;

class HostedPlugin {
  public:
    static constexpr std::chrono::milliseconds kFirstBackoff{1'000};
    static constexpr std::chrono::milliseconds kMaxBackoff{60'000};

    HostedPlugin(std::string sensor, std::filesystem::path plugin_file, std::string config,
                 HostOptions options);
    ~HostedPlugin();
    HostedPlugin(const HostedPlugin&) = delete;
    HostedPlugin& operator=(const HostedPlugin&) = delete;

    // Starts the host when none runs and has the plugin create its instance: "" on success,
    // else why not. Throws SensorConfigError when the plugin refuses the configuration.
    std::string create();
    // One reading (JSON object text, {"error": ...} on failure); creates first when needed.
    std::string read();

    // How often the host was started again after a crash or a missed deadline.
    int restarts() const { return _restarts.load(); }

    // sensorsys-plugin-host beside the running executable, or $SENSORSYS_PLUGIN_HOST when set
    // (the tests' and a developer's override).
    static std::filesystem::path defaultHostBinary();

  private:
    using Clock = std::chrono::steady_clock;

    std::string ensureHost();
    std::string failed(const std::string& what, const std::string& during);
    std::string retryText() const;

    std::string _sensor;
    std::filesystem::path _pluginFile;
    std::string _config;
    HostOptions _options;
    std::unique_ptr<HostProcess> _process;
    bool _created = false;
    std::atomic<int> _restarts{0};
    bool _failedBefore = false;
    std::chrono::milliseconds _backoff = kFirstBackoff;
    Clock::time_point _startedAt{};
    Clock::time_point _retryAt{};
    std::string _lastFailure;
};

}  // namespace sensorsys::agent
