// The running agent: a tick thread that takes readings and commits each one to the store
// before anything else happens to it, the sync thread that sends them, and a housekeeping
// thread for retention and the status file. stop() ends them within the 2 s budget.
// Thread-safety: start() and stop() from the main thread; counters() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include <Poco/Logger.h>

#include "agent_config.hpp"
#include "retention.hpp"
#include "sampler.hpp"
#include "store/reading_store.hpp"
#include "sync/syncer.hpp"
#include "time_source.hpp"

namespace sensorsys::agent {

struct RuntimeCounters {
    std::int64_t produced = 0;      // readings committed to the store
    std::int64_t skippedTicks = 0;  // ticks missed (suspend, clock jump, slow store)
    std::int64_t dropped = 0;       // readings lost because the store was down too long
    std::int64_t pending = 0;       // readings waiting in memory for the store
};

class AgentRuntime {
  public:
    // Readings wait in memory while the store is unavailable, up to this many.
    static constexpr std::size_t kPendingLimit = 10'000;

    AgentRuntime(const AgentSettings& settings, Sampler& sampler, ReadingStore& store,
                 Syncer& syncer, Retention& retention, TimeSource& time,
                 std::filesystem::path status_file, Poco::Logger& logger);
    ~AgentRuntime();

    void start();
    // Stops taking readings, commits what is pending, stops sync and housekeeping. Returns
    // false when a thread could not finish in time (a hung read or a request in flight): the
    // caller must then exit at once (std::_Exit) without destroying this object; every
    // committed reading is safe in the store.
    bool stop();

    RuntimeCounters counters() const;

  private:
    void tickLoop();
    void housekeepingLoop();
    // Waits on the monotonic clock until `tick` (a time of `now`'s clock); false when stopping.
    bool waitForTick(std::unique_lock<std::mutex>& lock, const TimeStamp& now,
                     std::chrono::system_clock::time_point tick);
    // One reading at `tick` (planned at `before`), dated as the time source says.
    void takeReading(const TimeStamp& before, std::chrono::system_clock::time_point tick,
                     std::chrono::milliseconds shortest);
    void commit(const Reading& reading, const TimeStamp& stamp);
    void flushPending();
    void writeStatus();

    const AgentSettings& _settings;
    Sampler& _sampler;
    ReadingStore& _store;
    Syncer& _syncer;
    Retention& _retention;
    TimeSource& _time;
    std::filesystem::path _statusFile;
    Poco::Logger& _logger;
    bool _echo;

    mutable std::mutex _mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    bool _tickDone = false;
    bool _housekeepingDone = false;
    std::deque<std::pair<StoredReading, ReadingClock>> _pending;
    RuntimeCounters _counters;

    std::unique_ptr<SyncThread> _sync;
    std::thread _tick;
    std::thread _housekeeping;
};

}  // namespace sensorsys::agent
