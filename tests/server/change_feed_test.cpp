// The change feed and the latest-reading cache against a real PostgreSQL: rows of concurrent
// transactions committed out of id order, reconnects, and the cache across instances.
#include "change_feed.hpp"
#include "server_fixture.hpp"
#include "test_partitions.hpp"

#include "migrator.hpp"

#include <Poco/Thread.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace sensorsys::server::testing {
namespace {

// A plain libpq session of the test (a "manual SQL" writer).
class Sql {
  public:
    explicit Sql(const std::string& connection) : _conn(PQconnectdb(connection.c_str())) {
        if (PQstatus(_conn.get()) != CONNECTION_OK)
            throw std::runtime_error(PQerrorMessage(_conn.get()));
    }
    std::string run(const std::string& sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(_conn.get(), sql.c_str()), &PQclear);
        const auto status = PQresultStatus(r.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
            throw std::runtime_error(sql + ": " + PQerrorMessage(_conn.get()));
        return status == PGRES_TUPLES_OK && PQntuples(r.get()) ? PQgetvalue(r.get(), 0, 0) : "";
    }

    // The payload of the next notification, waiting up to 2 s; empty when none came.
    std::string notification() {
        for (int i = 0; i < 40; ++i) {
            PQconsumeInput(_conn.get());
            if (PGnotify* n = PQnotifies(_conn.get())) {
                std::string payload = n->extra;
                PQfreemem(n);
                return payload;
            }
            Poco::Thread::sleep(50);
        }
        return "";
    }

  private:
    struct Finish {
        void operator()(PGconn* c) const { PQfinish(c); }
    };
    std::unique_ptr<PGconn, Finish> _conn;
};

std::string insertSql(const std::string& device, int minute) {
    return "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES ('" +
           device + "', '2030-01-01T10:" + (minute < 10 ? "0" : "") + std::to_string(minute) +
           ":00Z', '2030-01-01T10:" + (minute < 10 ? "0" : "") + std::to_string(minute) +
           ":00Z', '{\"n\": " + std::to_string(minute) + "}') RETURNING id";
}

// Collects what a feed hands on.
class Collector {
  public:
    ChangeFeedHandlers handlers() {
        ChangeFeedHandlers h;
        h.rows = [this](const std::vector<FeedRow>& rows) {
            std::lock_guard lock(_mutex);
            for (const auto& row : rows) ++_seen[row.reading.id];
            _changed.notify_all();
        };
        return h;
    }
    // Waits (bounded) until id was handed on; how often it was.
    int waitFor(std::int64_t id) {
        std::unique_lock lock(_mutex);
        _changed.wait_for(lock, std::chrono::seconds(20), [&] { return _seen.count(id) > 0; });
        return _seen.count(id) ? _seen[id] : 0;
    }
    std::map<std::int64_t, int> seen() {
        std::lock_guard lock(_mutex);
        return _seen;
    }

  private:
    std::mutex _mutex;
    std::condition_variable _changed;
    std::map<std::int64_t, int> _seen;
};

class ChangeFeedTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        auto session = ConnectionPool::connect(db.connection(), 5);
        migrate(session);
        session << sensorsys::test::kTestPartitionsSql, Poco::Data::Keywords::now;
    }
    bool waitListening(ChangeFeed& feed) {
        for (int i = 0; i < 200 && !feed.listening(); ++i) Poco::Thread::sleep(50);
        return feed.listening();
    }

    // Two transactions draw ids low < high and commit in the opposite order, between() running
    // after the first commit: each id is handed on once and the cursor settles exactly.
    void commitInOppositeOrder(
        const std::function<void(ChangeFeed&, Collector&, std::int64_t high)>& between) {
        Collector seen;
        ChangeFeed feed(db.connection(), seen.handlers(), quietLogger());
        feed.start();
        ASSERT_TRUE(waitListening(feed));
        Sql first(db.connection());
        Sql second(db.connection());
        first.run("BEGIN");
        second.run("BEGIN");
        const auto low = std::stoll(first.run(insertSql("a", 1)));
        const auto high = std::stoll(second.run(insertSql("b", 2)));
        ASSERT_LT(low, high);
        second.run("COMMIT");
        between(feed, seen, high);
        first.run("COMMIT");
        EXPECT_EQ(seen.waitFor(low), 1);
        // Later rows (and the rounds they cause) repeat nothing.
        Sql third(db.connection());
        const auto last = std::stoll(third.run(insertSql("c", 3)));
        EXPECT_EQ(seen.waitFor(last), 1);
        for (const auto& [id, count] : seen.seen()) EXPECT_EQ(count, 1) << "id " << id;
        EXPECT_EQ(seen.seen().size(), 3u);
        // No id left above the settled point, none settled that was not handed on.
        for (int i = 0; i < 100 && feed.cursor().settled() != last; ++i) Poco::Thread::sleep(50);
        EXPECT_EQ(feed.cursor().text(), std::to_string(last));
    }

    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
};

TEST_F(ChangeFeedTest, ALowerIdCommittedLaterIsDeliveredOnceAndNothingIsRepeated) {
    commitInOppositeOrder(
        [](ChangeFeed&, Collector& seen, std::int64_t high) { EXPECT_EQ(seen.waitFor(high), 1); });
}

// A row of this instance, as the ingest path knows it after its commit.
StoredReading ownRow(std::int64_t id) {
    StoredReading row;
    row.id = id;
    row.deviceId = "own";
    return row;
}

TEST_F(ChangeFeedTest, AnOwnRowIsHandedOnAtOnceAndTheFetchThatFollowsSkipsIt) {
    Collector seen;
    ChangeFeed feed(db.connection(), seen.handlers(), quietLogger());
    feed.start();
    ASSERT_TRUE(waitListening(feed));
    Sql sql(db.connection());
    sql.run("BEGIN");
    const auto own = std::stoll(sql.run(insertSql("own", 1)));
    // Handed on by the committing thread: no fetch could have seen it yet.
    feed.committed({ownRow(own)});
    EXPECT_EQ(seen.seen()[own], 1);
    sql.run("COMMIT");
    // Its notification's round, and a later row of another writer, repeat nothing.
    Sql other(db.connection());
    const auto later = std::stoll(other.run(insertSql("other", 2)));
    EXPECT_EQ(seen.waitFor(later), 1);
    EXPECT_EQ(seen.seen()[own], 1);
    EXPECT_EQ(feed.fetchedRows(), 1u) << "only the other writer's row is fetched";
}

TEST_F(ChangeFeedTest, AnOwnRowAFetchHandedOnFirstIsNotHandedOnAgain) {
    Collector seen;
    ChangeFeed feed(db.connection(), seen.handlers(), quietLogger());
    feed.start();
    ASSERT_TRUE(waitListening(feed));
    Sql sql(db.connection());
    const auto id = std::stoll(sql.run(insertSql("own", 1)));
    ASSERT_EQ(seen.waitFor(id), 1);
    feed.committed({ownRow(id)});
    EXPECT_EQ(seen.seen()[id], 1);
}

TEST_F(ChangeFeedTest, OwnAndFetchedRowsCommittedInOppositeOrderAreEachHandedOnOnce) {
    commitInOppositeOrder(
        [](ChangeFeed& feed, Collector&, std::int64_t high) { feed.committed({ownRow(high)}); });
}

// The snapshot's xmax is the latest completed transaction + 1: a transaction that took its id
// after that and is still running is not below it, so "xmin >= xmax" is no proof that it ended.
TEST_F(ChangeFeedTest, ARowOfTheNewestRunningTransactionIsNotSettledAwayBeforeItCommits) {
    Sql open(db.connection());
    open.run("BEGIN");
    const auto id = std::stoll(open.run(insertSql("slow", 1)));
    Collector seen;
    ChangeFeed feed(db.connection(), seen.handlers(), quietLogger());
    feed.start();
    ASSERT_TRUE(waitListening(feed));
    // The feed's idle rounds (one a second while something is unsettled) get their chance to
    // settle past the open transaction's id.
    for (int i = 0; i < 60 && feed.cursor().settled() < id; ++i) Poco::Thread::sleep(50);
    EXPECT_LT(feed.cursor().settled(), id) << feed.cursor().text();
    open.run("COMMIT");
    EXPECT_EQ(seen.waitFor(id), 1);
}

TEST_F(ChangeFeedTest, RowsCommittedWhileTheListenerWasKilledArriveAfterItsReconnect) {
    Collector seen;
    ChangeFeed feed(db.connection(), seen.handlers(), quietLogger());
    feed.start();
    ASSERT_TRUE(waitListening(feed));
    Sql sql(db.connection());
    const auto before = std::stoll(sql.run(insertSql("a", 1)));
    ASSERT_EQ(seen.waitFor(before), 1);
    sql.run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'sensorsys-change-feed' AND datname = current_database()");
    std::vector<std::int64_t> during;
    for (int i = 2; i < 12; ++i) during.push_back(std::stoll(sql.run(insertSql("a", i))));
    for (const auto id : during) EXPECT_EQ(seen.waitFor(id), 1) << "id " << id;
    EXPECT_TRUE(waitListening(feed));
    for (const auto& [id, count] : seen.seen()) EXPECT_EQ(count, 1) << "id " << id;
}

TEST_F(ChangeFeedTest, TheNotificationCarriesTheDevicesAndTheHighestIdOfTheStatement) {
    Sql listener(db.connection());
    listener.run("LISTEN sensorsys_readings");
    Sql writer(db.connection());
    const auto id = writer.run(insertSql("dev-x", 1));
    const auto payload = listener.notification();
    EXPECT_NE(payload.find("\"devices\" : [\"dev-x\"]"), std::string::npos) << payload;
    EXPECT_NE(payload.find("\"max_id\" : " + id), std::string::npos) << payload;
    // Too many devices for NOTIFY's 8000 bytes: the position alone.
    const auto many = writer.run(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) SELECT "
        "'device-with-a-long-name-' || g, now(), now(), '{}' FROM generate_series(1, 1000) g "
        "RETURNING (SELECT last_value FROM sensor_project.readings_id_seq)");
    const auto big = listener.notification();
    EXPECT_EQ(big.find("devices"), std::string::npos) << big.substr(0, 200);
    EXPECT_NE(big.find("\"max_id\""), std::string::npos) << big;
    // A statement that inserts nothing notifies nothing.
    writer.run(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) SELECT 'n', "
        "now(), now(), '{}' WHERE false");
    EXPECT_EQ(listener.notification(), "");
}

}  // namespace
}  // namespace sensorsys::server::testing
