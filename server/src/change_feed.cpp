#include "change_feed.hpp"

#include <Poco/JSON/Parser.h>

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace sensorsys::server {

namespace {

constexpr std::size_t kRecycleAfterBytes = 1024 * 1024;

constexpr int kPageRows = 1000;
// At the very first start, ids this far below the sequence are checked for rows of
// transactions still running (the feed knows nothing before its start).
constexpr std::int64_t kStartWindow = 1000;
// More pending settle points than this are merged (a long transaction holds them all back).
constexpr std::size_t kMaxPending = 64;
// The snapshot's xmin, and a bound above every transaction id that is assigned now. The
// snapshot's xmax is not such a bound: it is the latest *completed* id + 1, so a transaction
// that took its id after that and is still running lies at or above it, outside the snapshot's
// list, and "xmin >= xmax" held while it ran: its row, committed later below the settled point,
// was never fetched. Every transaction holding an id holds a lock on it (prepared ones too, and
// visible to any role, unlike pg_stat_activity's backend_xid), so pg_locks lists them; their
// 32-bit ids are widened to the snapshot's epoch.
constexpr const char* kBoundSql =
    "WITH f AS (SELECT pg_snapshot_xmin(s)::text::int8 AS xmin,"
    " pg_snapshot_xmax(s)::text::int8 AS xmax FROM pg_current_snapshot() s),"
    " x AS (SELECT transactionid::text::int8 AS xid FROM pg_locks"
    " WHERE locktype = 'transactionid')"
    " SELECT f.xmin, GREATEST(f.xmax, max(f.xmax + (x.xid - (f.xmax & 4294967295) + 6442450944)"
    " % 4294967296 - 2147483648) + 1)"
    " FROM f LEFT JOIN x ON true GROUP BY f.xmin, f.xmax";
constexpr auto kBackoffMin = std::chrono::milliseconds(100);
constexpr auto kBackoffMax = std::chrono::milliseconds(5000);

std::int64_t nowMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::int64_t toInt(const char* text) {
    return text && *text ? std::stoll(text) : 0;
}

}  // namespace

struct ChangeFeed::PgConn {
    struct Deleter {
        void operator()(PGconn* c) const { PQfinish(c); }
    };
    std::unique_ptr<PGconn, Deleter> conn;

    // Runs one statement; throws std::runtime_error when it fails (the connection is dropped).
    Result query(const char* sql, const std::vector<std::string>& params = {}) {
        std::vector<const char*> values;
        for (const auto& p : params) values.push_back(p.c_str());
        Result r(PQexecParams(conn.get(), sql, static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
        const auto status = PQresultStatus(r.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
            throw std::runtime_error(PQerrorMessage(conn.get()));
        return r;
    }
};

ChangeFeed::ChangeFeed(std::string connection, ChangeFeedHandlers handlers, Poco::Logger& logger)
    : _connection(std::move(connection)),
      _handlers(std::move(handlers)),
      _logger(logger),
      _pg(std::make_unique<PgConn>()) {
    _wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_wake < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

ChangeFeed::~ChangeFeed() {
    stop();
    ::close(_wake);
}

void ChangeFeed::start() {
    _thread = std::thread([this] { run(); });
}

void ChangeFeed::stop() {
    _stop = true;
    wake();
    if (_thread.joinable()) _thread.join();
}

void ChangeFeed::committed(std::vector<StoredReading> rows) {
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    handOn(rows, false);
}

void ChangeFeed::wake() {
    const std::uint64_t one = 1;
    if (::write(_wake, &one, sizeof one) < 0) {
        // the counter is saturated: a wake-up is pending anyway
    }
}

FeedCursor ChangeFeed::cursor() const {
    std::lock_guard lock(_mutex);
    return _cursor;
}

void ChangeFeed::run() {
    auto backoff = kBackoffMin;
    while (!_stop) {
        if (!connect()) {
            if (!sleepFor(backoff)) break;
            backoff = std::min(backoff * 2, std::chrono::milliseconds(kBackoffMax));
            continue;
        }
        backoff = kBackoffMin;
        try {
            bool work = true;  // after (re)connecting, everything since the cursor is new
            while (!_stop && !_recycle) {
                if (work) catchUp();
                if (_recycle) break;
                work = waitForWork(std::chrono::milliseconds(1000));
            }
            if (_recycle) _logger.information("change feed: reconnecting after a large reading");
        } catch (const std::exception& e) {
            if (!_stop) _logger.warning("change feed: %s; reconnecting", std::string(e.what()));
        }
        _recycle = false;
        disconnect();
    }
}

bool ChangeFeed::connect() {
    // Named, so an operator sees (and a test finds) the feed's session in pg_stat_activity.
    const std::string named = _connection + " application_name=sensorsys-change-feed";
    _pg->conn.reset(PQconnectdb(named.c_str()));
    if (PQstatus(_pg->conn.get()) != CONNECTION_OK) {
        _logger.warning("change feed: cannot connect: %s",
                        std::string(PQerrorMessage(_pg->conn.get())));
        _pg->conn.reset();
        return false;
    }
    try {
        _pg->query((std::string("LISTEN ") + kChannel).c_str());
        if (!_started) startCursor();
    } catch (const std::exception& e) {
        _logger.warning("change feed: %s", std::string(e.what()));
        _pg->conn.reset();
        return false;
    }
    if (_handlers.up) _handlers.up();
    _listening = true;
    return true;
}

void ChangeFeed::disconnect() {
    _pg->conn.reset();
    if (_listening.exchange(false) && _handlers.down) _handlers.down();
}

void ChangeFeed::startCursor() {
    const Result last = _pg->query(
        "SELECT COALESCE(pg_sequence_last_value("
        "pg_get_serial_sequence('sensor_project.readings', 'id')), 0)");
    const std::int64_t top = toInt(PQgetvalue(last.get(), 0, 0));
    FeedCursor cursor(std::max<std::int64_t>(0, top - kStartWindow));
    const Result ids = _pg->query(
        "SELECT id::int8 FROM sensor_project.readings WHERE id > $1::int8 AND id <= $2::int8",
        {std::to_string(cursor.settled()), std::to_string(top)});
    for (int i = 0; i < PQntuples(ids.get()); ++i) cursor.add(toInt(PQgetvalue(ids.get(), i, 0)));
    std::lock_guard lock(_mutex);
    _cursor = cursor;
    _started = true;
}

bool ChangeFeed::sleepFor(std::chrono::milliseconds duration) {
    pollfd fd{_wake, POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(duration.count()));
    std::uint64_t count = 0;
    if (::read(_wake, &count, sizeof count) < 0) {
        // nothing pending
    }
    return !_stop;
}

bool ChangeFeed::waitForWork(std::chrono::milliseconds timeout) {
    // libpq reads notifications that arrive while a query runs into its own queue: the socket
    // is then drained and poll() would sleep on them (up to the timeout) although a commit
    // after the last round's snapshot is waiting to be fetched.
    if (readNotifications()) return true;
    pollfd fds[2] = {{PQsocket(_pg->conn.get()), POLLIN, 0}, {_wake, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    bool work = false;
    if (fds[1].revents & POLLIN) {
        std::uint64_t count = 0;
        if (::read(_wake, &count, sizeof count) > 0) work = true;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!PQconsumeInput(_pg->conn.get()) || PQstatus(_pg->conn.get()) != CONNECTION_OK)
            throw std::runtime_error(PQerrorMessage(_pg->conn.get()));
        readNotifications();
        work = true;
    }
    // With nothing new, a round now and then still settles ids (keeps the cursor short).
    return work || (n == 0 && !_pending.empty());
}

void ChangeFeed::catchUp() {
    // The sequence first, then the transactions: one that drew an id up to lastId owned a
    // transaction id before the sequence was read, so it has ended or is still running below
    // the bound (see kBoundSql).
    const Result last = _pg->query(
        "SELECT COALESCE(pg_sequence_last_value("
        "pg_get_serial_sequence('sensor_project.readings', 'id')), 0)");
    const Result snapshot = _pg->query(kBoundSql);
    const std::int64_t xmin = toInt(PQgetvalue(snapshot.get(), 0, 0));
    _pending.push_back(
        {toInt(PQgetvalue(last.get(), 0, 0)), toInt(PQgetvalue(snapshot.get(), 0, 1))});
    if (_pending.size() > kMaxPending) {
        const Pending newest = _pending.back();
        _pending.pop_back();
        _pending.back() = {std::max(newest.lastId, _pending.back().lastId),
                           std::max(newest.bound, _pending.back().bound)};
    }
    // Each page's snapshot is newer than the one above: it sees at least what that one proved.
    std::vector<StoredReading> page;
    do {
        page = fetch(cursor());
        std::size_t payloadBytes = 0;
        for (const auto& reading : page) payloadBytes += reading.payloadJson.size();
        if (payloadBytes > kRecycleAfterBytes) _recycle = true;
        handOn(page, true);
    } while (page.size() == static_cast<std::size_t>(kPageRows) && !_stop);
    settle(xmin);
    if (_handlers.caughtUp) _handlers.caughtUp();
}

void ChangeFeed::settle(std::int64_t xmin) {
    std::int64_t upTo = -1;
    while (!_pending.empty() && _pending.front().bound <= xmin) {
        upTo = std::max(upTo, _pending.front().lastId);
        _pending.pop_front();
    }
    if (upTo < 0) return;
    std::lock_guard lock(_mutex);
    _cursor.settle(upTo);
    if (_handlers.settled) _handlers.settled(_cursor);
}

void ChangeFeed::handOn(std::vector<StoredReading>& readings, bool fetched) {
    std::vector<FeedRow> rows;
    rows.reserve(readings.size());
    std::lock_guard lock(_mutex);
    if (!_started) return;
    for (auto& reading : readings) {
        if (_cursor.delivered(reading.id)) continue;  // the other path was first
        _cursor.add(reading.id);
        rows.push_back({std::move(reading)});
    }
    if (fetched) _fetchedRows += rows.size();
    if (!rows.empty() && _handlers.rows) _handlers.rows(rows);
}

std::vector<StoredReading> ChangeFeed::fetch(const FeedCursor& after) {
    // "readings.id", not "id": that would name the output column id::int8 (the seed's id is a
    // SERIAL), which no index orders, and each page sorted every row past the cursor.
    const Result r = _pg->query(
        "SELECT " SENSORSYS_READING_COLUMNS
        " FROM sensor_project.readings"
        " WHERE id > $1::int8 AND NOT ($2::int8multirange @> id::int8)"
        " ORDER BY readings.id LIMIT $3::int4",
        {std::to_string(after.settled()), after.multirange(), std::to_string(kPageRows)});
    std::vector<StoredReading> out(static_cast<std::size_t>(PQntuples(r.get())));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int row = static_cast<int>(i);
        out[i].id = toInt(PQgetvalue(r.get(), row, 0));
        out[i].readingId = PQgetvalue(r.get(), row, 1);
        out[i].deviceId = PQgetvalue(r.get(), row, 2);
        out[i].tsUtcMicros = toInt(PQgetvalue(r.get(), row, 3));
        out[i].tsLocalMicros = toInt(PQgetvalue(r.get(), row, 4));
        out[i].tsLocalOffset = static_cast<int>(toInt(PQgetvalue(r.get(), row, 5)));
        out[i].payloadJson = PQgetvalue(r.get(), row, 6);
        out[i].tsQuality = PQgetvalue(r.get(), row, 7);
    }
    return out;
}

bool ChangeFeed::readNotifications() {
    bool any = false;
    while (PGnotify* n = PQnotifies(_pg->conn.get())) {
        any = true;
        ++_notifications;
        try {
            const auto payload = Poco::JSON::Parser().parse(n->extra);
            const auto object = payload.extract<Poco::JSON::Object::Ptr>();
            if (object && object->has("t"))
                _lagMicros = nowMicros() - object->getValue<Poco::Int64>("t");
        } catch (const Poco::Exception&) {
            // another writer's payload: the rows are fetched by cursor all the same
        }
        PQfreemem(n);
    }
    return any;
}

}  // namespace sensorsys::server
