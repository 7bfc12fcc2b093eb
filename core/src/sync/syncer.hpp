// Moves readings from the store to the server: oldest unsynced first, in batches, marking
// them synced only after the server confirmed them, and answering every kind of reply as
// docs/contract.md §5's table says (quarantine, bisect, plain bodies, Retry-After, backoff).
// Thread-safety: drain() runs on one thread (the sync thread); state() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Logger.h>

#include "store/reading_store.hpp"
#include "sync/backoff.hpp"
#include "sync/bulk_client.hpp"
#include "sync/flight_window.hpp"
#include "sync/idle_pool.hpp"

namespace sensorsys::agent {

struct SyncSettings {
    std::size_t batchSize = 360;
    bool gzip = true;
    std::chrono::milliseconds backoffBase{1000};
    std::chrono::milliseconds backoffMax{300'000};
    // Batches on the wire at once, each on its own connection: two keep the server's
    // database busy while the agent reads and encodes the next one. 1: strictly one after
    // the other.
    std::size_t inFlight = 2;
};

// What --status shows about syncing.
struct SyncState {
    std::string lastResult;  // "ok: HTTP 200 inserted ..." or the failure
    std::optional<std::chrono::system_clock::time_point> lastAttempt;
    std::optional<std::chrono::system_clock::time_point> lastSuccess;
    std::int64_t requests = 0;
    std::int64_t synced = 0;
    std::int64_t quarantined = 0;
    std::string lastQuarantineReason;  // the server's words for the last reading it refused
    bool plainBodies = false;          // the server refused gzip once
};

class Syncer {
  public:
    Syncer(ReadingStore& store, BulkClient& client, SyncSettings settings, Poco::Logger& logger);

    // Sends batch after batch until the backlog is empty (returns nullopt) or an answer says
    // to wait (returns how long), or `stop` is set. Never throws.
    std::optional<std::chrono::milliseconds> drain(const std::atomic<bool>& stop);

    SyncState state() const;

    // Runs `prepare` at the start of every drain (the agent dates and releases held readings
    // there, asking the server for the time first when no source has answered yet). What it
    // throws is logged, and the drain goes on.
    void prepareWith(std::function<void()> prepare) { _prepare = std::move(prepare); }

  private:
    bool wantsGzip() const;
    // The batch's request body, built by an idle BodyBuilder (one per request in flight).
    BulkBody bodyOf(std::span<const StoredReading> batch, bool gzip);
    // One POST of the batch (resent as plain JSON once if the server refuses gzip). A body
    // that cannot be built is a Failed answer, never an exception.
    BulkAnswer post(std::span<const StoredReading> batch);
    BulkAnswer send(std::span<const StoredReading> batch, bool gzip);
    // nullopt: this part of the batch is dealt with (synced or quarantined).
    std::optional<std::chrono::milliseconds> deliver(std::span<const StoredReading> batch);
    // What `answer` to this batch means for the store, synchronously; bisects 400/413/422.
    std::optional<std::chrono::milliseconds> handle(std::span<const StoredReading> batch,
                                                    const BulkAnswer& answer);
    // A 2xx: marks what was stored synced and quarantines what was rejected. Throws what the
    // store throws.
    void accept(std::span<const StoredReading> batch, const BulkAnswer& answer);
    // A refusal of the whole batch: resends its halves, quarantines a single reading.
    std::optional<std::chrono::milliseconds> bisect(std::span<const StoredReading> batch,
                                                    const BulkAnswer& answer);
    // The window's pending mark is settled and counted; a store error means a backoff.
    std::optional<std::chrono::milliseconds> settle(FlightWindow& window);
    // The oldest flight was confirmed in full: the next batch goes out, then it is marked.
    std::optional<std::chrono::milliseconds> confirm(FlightWindow& window, const BulkAnswer& answer,
                                                     const std::atomic<bool>& stop);
    // Anything but a clean success: every flight lands and every answer is handled in order.
    std::optional<std::chrono::milliseconds> handleInOrder(FlightWindow& window,
                                                           const BulkAnswer& answer);
    std::chrono::milliseconds failed(const std::string& what, bool loud);
    void record(const std::string& result, bool success);

    ReadingStore& _store;
    BulkClient& _client;
    SyncSettings _settings;
    Poco::Logger& _logger;
    Backoff _backoff;
    mutable std::mutex _mutex;
    SyncState _state;
    IdlePool<BodyBuilder> _builders{4};
    std::function<void()> _prepare;
};

// Runs a Syncer on its own thread: drains whenever woken (a new reading was stored) and
// after each wait it was asked for. Thread-safety: wake() and stop() from any thread.
class SyncThread {
  public:
    explicit SyncThread(Syncer& syncer);
    ~SyncThread();

    void wake();
    // Asks the thread to finish; waits up to `limit` for it. False if it is still busy (an
    // HTTP request in flight): the caller may then exit without it, nothing is lost since
    // unconfirmed readings stay unsynced in the store.
    bool stop(std::chrono::milliseconds limit);

  private:
    void run();

    Syncer& _syncer;
    std::atomic<bool> _stopping{false};
    std::mutex _mutex;
    std::condition_variable _wake;
    bool _woken = true;
    bool _finished = false;
    std::condition_variable _done;
    std::thread _thread;
};

}  // namespace sensorsys::agent
