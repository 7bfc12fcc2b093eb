// The change feed of sensor_project.readings: one dedicated libpq connection (POCO's Data layer
// does not expose notifications) that LISTENs to the notifications of migration V005 in a
// thread of its own, fetches the rows committed since its cursor once per burst of
// notifications (or at once when poke() says this instance committed some), and hands them on
// in id order. It reconnects with backoff; after a reconnect everything since its cursor is
// fetched, so nothing is missed while it was down, and nothing is handed on twice.
//
// Why the cursor is exact although ids are not commit-ordered: every inserting statement owns
// a transaction id before it draws reading ids (V005), so once every transaction that was
// running when the sequence stood at L has ended, no id up to L can still appear; until then the
// ids delivered above the settled point are remembered (FeedCursor).
//
// Thread-safe: start/stop/poke from any thread; the handlers run on the feed's thread.
#pragma once

#include "feed_cursor.hpp"
#include "reading_store.hpp"

#include <Poco/Logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sensorsys::server {

// A row the feed hands on, with the feed's cursor just after it.
struct FeedRow {
    StoredReading reading;
    std::string cursor;
};

struct ChangeFeedHandlers {
    // LISTEN is established (first time or after a reconnect); rows follow.
    std::function<void()> up;
    // The connection is lost; up() follows once it is back.
    std::function<void()> down;
    // Newly committed rows in id order, each once.
    std::function<void(const std::vector<FeedRow>&)> rows;
    // A fetch round ended: everything committed before it began has been handed on.
    std::function<void()> caughtUp;
    // Every id up to the cursor's settled point is now delivered or will never appear.
    std::function<void(const FeedCursor&)> settled;
};

class ChangeFeed {
  public:
    static constexpr const char* kChannel = "sensorsys_readings";

    ChangeFeed(std::string connection, ChangeFeedHandlers handlers, Poco::Logger& logger);
    ~ChangeFeed();
    ChangeFeed(const ChangeFeed&) = delete;
    ChangeFeed& operator=(const ChangeFeed&) = delete;

    void start();
    void stop();
    // Fetch now: this instance just committed rows.
    void poke();

    bool listening() const { return _listening.load(); }
    // Microseconds from the notifying statement to its receipt, of the last notification.
    std::int64_t lastLagMicros() const { return _lagMicros.load(); }
    std::uint64_t notifications() const { return _notifications.load(); }
    FeedCursor cursor() const;

  private:
    struct Pending {
        std::int64_t lastId;  // the sequence's value before the snapshot was taken
        std::int64_t xmax;    // every transaction that drew an id up to lastId is below it
    };
    struct PgConn;

    void run();
    bool connect();
    void disconnect();
    bool waitForWork(std::chrono::milliseconds timeout);
    void catchUp();
    void startCursor();
    void settle(std::int64_t xmin);
    std::vector<StoredReading> fetch(const FeedCursor& after);
    void readNotifications();
    bool sleepFor(std::chrono::milliseconds duration);

    const std::string _connection;
    ChangeFeedHandlers _handlers;
    Poco::Logger& _logger;
    std::unique_ptr<PgConn> _pg;
    int _wake = -1;  // eventfd: poke and stop
    std::atomic<bool> _stop{false};
    std::atomic<bool> _listening{false};
    std::atomic<std::int64_t> _lagMicros{0};
    std::atomic<std::uint64_t> _notifications{0};
    bool _started = false;  // the cursor has been initialised
    // A fetched page held over 1 MiB of payload: libpq's input buffer grew to it and never
    // shrinks, so the feed reconnects (from its cursor, nothing missed) to give it back.
    bool _recycle = false;
    mutable std::mutex _mutex;  // guards _cursor for cursor()
    FeedCursor _cursor;
    std::deque<Pending> _pending;
    std::thread _thread;
};

}  // namespace sensorsys::server
