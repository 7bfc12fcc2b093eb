// The change feed of sensor_project.readings: one dedicated libpq connection (POCO's Data layer
// does not expose notifications) that LISTENs to the notifications of migration V005 in a
// thread of its own, fetches the rows committed since its cursor once per burst of
// notifications, and hands them on. It reconnects with backoff; after a reconnect everything
// since its cursor is fetched, so nothing is missed while it was down, and nothing is handed on
// twice.
//
// Rows this instance commits do not wait for their notification (read your own writes): the
// ingest path knows them with their ids right after the commit and gives them to committed(),
// which hands them on at once, on the committing thread. Each id is handed on by whoever first
// records it in the feed's cursor, under the cursor's lock: committed() skips ids a fetch has
// already handed on, and a fetch skips ids committed() has (its query excludes the ids the
// cursor holds; a row committed() records while that query runs is dropped from its result).
// Handing on under the same lock keeps the receivers' order equal to the cursor's order, so a
// settled() call never overtakes a row it covers: a client's resume cursor stays exact. Own rows
// are not settled by committed(): settling still needs the snapshot proof below, and the own
// notification's round gives it (its fetch finds nothing new).
//
// Why the cursor is exact although ids are not commit-ordered: every inserting statement owns
// a transaction id before it draws reading ids (V005), so once every transaction that held an
// id when the sequence stood at L has ended, no id up to L can still appear; until then the
// ids delivered above the settled point are remembered (FeedCursor). Which transactions held an
// id is read from pg_locks, not from the snapshot's xmax (see kBoundSql in the .cpp).
//
// Thread-safe: start/stop/committed from any thread. up/down/caughtUp run on the feed's thread;
// rows and settled run on the feed's thread or on a thread in committed(), never two at once,
// with the feed's lock held (they must not call back into the feed).
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

// A row the feed hands on. (Receivers keep cursors of their own: the feed's own text form per
// row cost O(ranges) each, for nobody.)
struct FeedRow {
    StoredReading reading;
};

struct ChangeFeedHandlers {
    // LISTEN is established (first time or after a reconnect); rows follow.
    std::function<void()> up;
    // The connection is lost; up() follows once it is back.
    std::function<void()> down;
    // Newly committed rows, each once; in id order within a call (not across calls: own rows
    // and fetched rows interleave).
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
    // Rows this instance has just committed: handed on now, never again by a fetch. Before the
    // feed has its first position it does nothing (the start window covers them).
    void committed(std::vector<StoredReading> rows);

    bool listening() const { return _listening.load(); }
    // Microseconds from the notifying statement to its receipt, of the last notification.
    std::int64_t lastLagMicros() const { return _lagMicros.load(); }
    std::uint64_t notifications() const { return _notifications.load(); }
    // Rows handed on from the feed's own fetches (other writers' rows, or own rows a fetch found
    // before committed() did).
    std::uint64_t fetchedRows() const { return _fetchedRows.load(); }
    FeedCursor cursor() const;

  private:
    struct Pending {
        std::int64_t lastId;  // the sequence's value before the snapshot was taken
        std::int64_t bound;   // every transaction that drew an id up to lastId is below it
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
    void handOn(std::vector<StoredReading>& readings, bool fetched);
    bool readNotifications();
    void wake();
    bool sleepFor(std::chrono::milliseconds duration);

    const std::string _connection;
    ChangeFeedHandlers _handlers;
    Poco::Logger& _logger;
    std::unique_ptr<PgConn> _pg;
    int _wake = -1;  // eventfd: stop
    std::atomic<bool> _stop{false};
    std::atomic<bool> _listening{false};
    std::atomic<std::int64_t> _lagMicros{0};
    std::atomic<std::uint64_t> _notifications{0};
    std::atomic<std::uint64_t> _fetchedRows{0};
    bool _started = false;  // the cursor has been initialised (written under _mutex)
    // A fetched page held over 1 MiB of payload: libpq's input buffer grew to it and never
    // shrinks, so the feed reconnects (from its cursor, nothing missed) to give it back.
    bool _recycle = false;
    // Guards _cursor and _started; held while rows and settled are handed on.
    mutable std::mutex _mutex;
    FeedCursor _cursor;
    std::deque<Pending> _pending;
    std::thread _thread;
};

}  // namespace sensorsys::server
