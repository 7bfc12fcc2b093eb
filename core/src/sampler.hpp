// Turns the loaded plugins and the configured instances into readings: builds the instances,
// reads the ones due in parallel, stamps the result. Thread-safety: one sample() at a time.
#pragma once

#include <atomic>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Logger.h>
#include <Poco/ThreadPool.h>

#include <sensorsys/common/uuid_v7.hpp>
#include "agent_config.hpp"
#include "call_note.hpp"
#include "parallel_reader.hpp"
#include "plugin_loader.hpp"
#include "reading.hpp"

namespace sensorsys::agent {

class Sampler {
  public:
    // Builds every enabled instance of `specs` and starts their creates on the pool (grown to
    // one thread per instance plus a margin); awaitCreates() collects them. Calls into the
    // plugins are marked in `note` when there is one. An instance whose plugin is missing or
    // was refused stays in the readings as an {"error": ...} naming why.
    Sampler(const AgentSettings& settings, const std::vector<SensorSpec>& specs,
            const PluginScan& plugins, Poco::ThreadPool& pool, Poco::Logger& logger,
            std::shared_ptr<const CallNote> note = nullptr);

    // Waits for the creates until agent.create_timeout after they started, or until
    // `give_up` (polled) returns true. Throws ConfigError when a plugin refused an instance's
    // configuration. A create still running goes on: its sensor's readings say
    // "timeout: create ..." until it returns, and a failed create is retried at each read.
    void awaitCreates(const std::function<bool()>& give_up = {});

    // One reading of the instances due at `tick` (all of them when `all` is true), stamped
    // with `tick`.
    Reading sample(std::chrono::system_clock::time_point tick, bool all = false);

    // Milliseconds between readings for each enabled instance (the scheduler's input).
    std::vector<std::chrono::milliseconds> intervals() const;

    // Each instance's last result (JSON text), for --status. Safe from any thread.
    std::vector<std::pair<std::string, std::string>> lastResults() const;

    // How often each process-isolated sensor's plugin host was restarted. Safe from any thread.
    std::vector<std::pair<std::string, int>> hostRestarts() const;

    // True while any read has been abandoned and not yet returned.
    bool readsInFlight() const;

    std::size_t instanceCount() const { return _slots.size(); }

  private:
    struct Slot {
        std::string name;
        std::chrono::milliseconds interval;
        std::shared_ptr<SensorInstance> instance;  // null when the plugin is unavailable
        std::string unavailable;                   // {"error": ...} when instance is null
        bool implicit = false;                     // SensorSpec::implicit
        // Set by awaitCreates() when an implicit instance's plugin refused to run without
        // settings: from then on the slot is left out of every reading. Shared with sample(),
        // which may run at the same time.
        std::shared_ptr<std::atomic<bool>> retired = std::make_shared<std::atomic<bool>>(false);
    };

    std::string _deviceId;
    std::chrono::milliseconds _createTimeout;
    std::chrono::steady_clock::time_point _createsStarted;
    ParallelReader::Batch _creates;
    std::vector<Slot> _slots;
    ParallelReader _reader;
    // A reading's id carries its time: after the clock stepped back the ids follow it.
    UuidV7Generator _uuids{std::chrono::milliseconds(500)};
    Poco::Logger& _logger;
    mutable std::mutex _lastMutex;
    std::vector<std::pair<std::string, std::string>> _last;
};

}  // namespace sensorsys::agent
