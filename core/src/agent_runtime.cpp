#include "agent_runtime.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tick_schedule.hpp"

namespace sensorsys::agent {
namespace {

using Clock = std::chrono::system_clock;

std::string isoOrNull(const std::optional<Clock::time_point>& time) {
    return time ? formatUtc(*time) : std::string();
}

}  // namespace

AgentRuntime::AgentRuntime(const AgentSettings& settings, Sampler& sampler, ReadingStore& store,
                           Syncer& syncer, Retention& retention, TimeSource& time,
                           std::filesystem::path status_file, Poco::Logger& logger)
    : _settings(settings),
      _sampler(sampler),
      _store(store),
      _syncer(syncer),
      _retention(retention),
      _time(time),
      _statusFile(std::move(status_file)),
      _logger(logger),
      // On a terminal (the demo) show each reading; under systemd the journal gets logs only.
      _echo(::isatty(STDOUT_FILENO) == 1) {}

AgentRuntime::~AgentRuntime() {
    // Only reached after a clean stop(); after an unclean one the process exits without
    // running destructors (threads still inside a plugin or a request cannot be joined).
    stop();
    if (_tick.joinable()) _tick.join();
    if (_housekeeping.joinable()) _housekeeping.join();
}

void AgentRuntime::start() {
    _sync = std::make_unique<SyncThread>(_syncer);
    _tick = std::thread([this] { tickLoop(); });
    _housekeeping = std::thread([this] { housekeepingLoop(); });
}

RuntimeCounters AgentRuntime::counters() const {
    std::lock_guard lock(_mutex);
    RuntimeCounters c = _counters;
    c.pending = static_cast<std::int64_t>(_pending.size());
    return c;
}

void AgentRuntime::commit(const Reading& reading, const TimeStamp& stamp) {
    {
        std::lock_guard lock(_mutex);
        if (_pending.size() >= kPendingLimit) {
            ++_counters.dropped;
            _logger.error("store unavailable for " + std::to_string(kPendingLimit) +
                          " readings: dropping the oldest waiting reading " +
                          _pending.front().first.readingId);
            _pending.pop_front();
        }
        _pending.emplace_back(
            StoredReading{0, reading.readingId, reading.toJson()},
            ReadingClock{stamp.boottime.count(), _time.seam().bootId(), stamp.held});
    }
    flushPending();
    _sync->wake();
}

void AgentRuntime::flushPending() {
    std::lock_guard lock(_mutex);
    while (!_pending.empty()) {
        try {
            _store.add(_pending.front().first, _pending.front().second);
        } catch (const std::exception& e) {
            _logger.warning(std::string("cannot store reading, keeping ") +
                            std::to_string(_pending.size()) +
                            " in memory and retrying: " + e.what());
            return;
        }
        if (_echo) {
            const std::string& json = _pending.front().first.json;
            std::fwrite(json.data(), 1, json.size(), stdout);
            std::fputc('\n', stdout);
            std::fflush(stdout);
        }
        _pending.pop_front();
        ++_counters.produced;
    }
}

void AgentRuntime::tickLoop() {
    const auto intervals = _sampler.intervals();
    const auto shortest = *std::min_element(intervals.begin(), intervals.end());
    std::optional<Clock::time_point> previous;
    std::unique_lock lock(_mutex);
    while (!_stopping) {
        const TimeStamp now = _time.stampNow();
        auto tick = nextTick(now.time, intervals);
        // A source's time may move back a little (each server answer refines it): a tick already
        // taken is never taken again. A step back of an interval or more is followed.
        if (previous && tick <= *previous && *previous - tick < shortest) {
            tick = nextTick(*previous, intervals);
        }
        if (previous && tick > *previous && tick - *previous > shortest) {
            // Suspended, clock stepped, or the last tick overran: skip, never catch up in a burst.
            const auto missed = (tick - *previous) / shortest - 1;
            _counters.skippedTicks += missed;
            _logger.warning("skipped " + std::to_string(missed) + " tick(s) before " +
                            formatUtc(tick));
        }
        if (!waitForTick(lock, now, tick)) break;
        previous = tick;
        lock.unlock();
        takeReading(now, tick, shortest);
        lock.lock();
    }
    _tickDone = true;
    _wake.notify_all();
}

bool AgentRuntime::waitForTick(std::unique_lock<std::mutex>& lock, const TimeStamp& now,
                               Clock::time_point tick) {
    // On the monotonic clock: a step of the wall clock neither stretches the wait (a step back
    // of an hour would stop readings for that hour) nor cuts it short.
    const auto deadline = std::chrono::steady_clock::now() + (tick - now.time);
    return !_wake.wait_until(lock, deadline, [this] { return _stopping; });
}

void AgentRuntime::takeReading(const TimeStamp& before, Clock::time_point tick,
                               std::chrono::milliseconds shortest) {
    const TimeStamp stamp = _time.stampNow();
    // Time told by the source against CLOCK_BOOTTIME over the wait: they differ when the wall
    // clock stepped (or a source first answered). Then the reading is dated as the clock now
    // says and every sensor is read (the tick's alignment no longer tells which are due); a
    // late wake-up alone keeps the tick's time, as before.
    const auto told = stamp.time - before.time;
    const auto elapsed =
        std::chrono::duration_cast<Clock::duration>(stamp.boottime - before.boottime);
    const auto step = told > elapsed ? told - elapsed : elapsed - told;
    const bool stepped = step > shortest / 2;
    Reading reading = _sampler.sample(stepped ? stamp.time : tick, stepped);
    if (stamp.corrected) reading.tsQuality = "corrected";
    commit(reading, stamp);
}

void AgentRuntime::housekeepingLoop() {
    using std::chrono::steady_clock;
    auto next_retention = steady_clock::now();
    auto next_flush = steady_clock::now();
    std::int64_t requests_in_status = -1;
    std::unique_lock lock(_mutex);
    while (!_stopping) {
        lock.unlock();
        const bool due = steady_clock::now() >= next_flush;
        if (due) {
            flushPending();  // retries readings the store refused earlier
            next_flush = steady_clock::now() + std::chrono::seconds(5);
        }
        if (steady_clock::now() >= next_retention) {
            _retention.check();
            next_retention = steady_clock::now() + _settings.retentionCheckInterval;
        }
        // The status file every 5 s, and every second while sync requests go out, so that
        // --status follows a drain as it happens.
        const auto requests = _syncer.state().requests;
        if (due || requests != requests_in_status) {
            writeStatus();
            requests_in_status = requests;
        }
        lock.lock();
        // A retention.check_interval under a second is honoured, not rounded up.
        const auto wake = std::min(steady_clock::now() + std::chrono::seconds(1), next_retention);
        _wake.wait_until(lock, wake, [this] { return _stopping; });
    }
    _housekeepingDone = true;
    _wake.notify_all();
}

void AgentRuntime::writeStatus() {
    if (_statusFile.empty()) return;
    const SyncState sync = _syncer.state();
    const RuntimeCounters c = counters();
    Poco::JSON::Object status;
    status.set("updated", formatUtc(Clock::now()));
    status.set("pid", static_cast<int>(::getpid()));
    status.set("device_id", _settings.deviceId);
    status.set("produced", c.produced);
    status.set("pending_in_memory", c.pending);
    status.set("dropped", c.dropped);
    status.set("skipped_ticks", c.skippedTicks);
    status.set("last_sync_result", sync.lastResult);
    status.set("last_sync_attempt", isoOrNull(sync.lastAttempt));
    status.set("last_sync_success", isoOrNull(sync.lastSuccess));
    status.set("sync_requests", sync.requests);
    status.set("last_quarantine_reason", sync.lastQuarantineReason);
    const TimeStatus time = _time.status();
    Poco::JSON::Object clock;
    clock.set("source", originName(time.origin));
    clock.set("since", isoOrNull(time.since));
    clock.set("offset_us", static_cast<Poco::Int64>(time.offset.count()));
    status.set("clock", clock);
    Poco::JSON::Object sensors;
    for (const auto& [name, json] : _sampler.lastResults()) {
        sensors.set(name, Poco::JSON::Parser().parse(json));  // validated plugin output
    }
    status.set("sensors", sensors);
    Poco::JSON::Object restarts;
    for (const auto& [name, count] : _sampler.hostRestarts()) restarts.set(name, count);
    status.set("host_restarts", restarts);
    // Write then rename: a reader never sees half a file.
    const auto temporary = _statusFile.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        if (!out) return;  // no status without a writable folder; the agent works on
        status.stringify(out, 2);
    }
    std::error_code ec;
    std::filesystem::rename(temporary, _statusFile, ec);
}

bool AgentRuntime::stop() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    {
        std::lock_guard lock(_mutex);
        if (_stopping && _tickDone && _housekeepingDone) return true;
        _stopping = true;
    }
    _wake.notify_all();
    bool clean = true;
    {
        std::unique_lock lock(_mutex);
        clean = _wake.wait_until(lock, deadline, [this] { return _tickDone && _housekeepingDone; });
    }
    if (clean) {
        _tick.join();
        _housekeeping.join();
    }
    flushPending();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (_sync && !_sync->stop(std::max(left, std::chrono::milliseconds(100)))) clean = false;
    writeStatus();
    const RuntimeCounters c = counters();
    if (c.pending > 0) {
        _logger.error("stopping with " + std::to_string(c.pending) +
                      " reading(s) the store could not take: they are lost");
    }
    return clean;
}

}  // namespace sensorsys::agent
