// GET /readings/latest from the latest-reading cache: two server instances on one database and
// a manual SQL writer; the cache's answers are the database's, byte for byte, and it is off
// while the change feed cannot listen.
#include "server_fixture.hpp"
#include "test_partitions.hpp"

#include "migrator.hpp"

#include <Poco/Thread.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <functional>

namespace sensorsys::server::testing {
namespace {

void sql(const std::string& connection, const std::string& statement) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(connection.c_str()), &PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), statement.c_str()), &PQclear);
    const auto status = PQresultStatus(r.get());
    ASSERT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << statement << ": " << PQerrorMessage(c.get());
}

std::string insertSql(const std::string& device, const std::string& tsLocal, int n) {
    return "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES ('" +
           device + "', '" + tsLocal + "', '" + tsLocal + "', '{\"n\": " + std::to_string(n) +
           "}')";
}

// A second instance on the first one's database.
std::unique_ptr<ApiServer> secondInstance(const ServerConfig& config) {
    auto server = std::make_unique<ApiServer>(config, quietLogger());
    server->start();
    return server;
}

// Polls until pred() holds (bounded: 20 s).
bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 400; ++i) {
        if (pred()) return true;
        Poco::Thread::sleep(50);
    }
    return pred();
}

bool cacheOn(int port) {
    return call(port, "GET", "/metrics").body.find("\nsensorsys_latest_cache_on 1\n") !=
           std::string::npos;
}

// What the database answers (the route's own query, no cache).
std::string databaseLatest(ApiServer& server, const std::optional<std::string>& device) {
    ReadingStore store(server.reads());
    const auto latest = store.latest(device);
    return latest ? latest->json() : "";
}

TEST(LatestCache, AWriteToOneInstanceAndAManualInsertAreAnsweredByBothFromMemory) {
    TestServer a;
    auto b = secondInstance(a.config);
    ASSERT_TRUE(eventually([&] { return cacheOn(a.port()) && cacheOn(b->port()); }));
    ASSERT_EQ(call(a.port(), "POST", "/readings", readingJson("x", 5, uuidFor(1))).status, 201);
    // Own write: at once on A; on B after the notification.
    const auto onA = call(a.port(), "GET", "/readings/latest?device_id=x");
    ASSERT_EQ(onA.status, 200);
    EXPECT_EQ(onA.body, databaseLatest(*a.server, std::string("x")));
    EXPECT_TRUE(eventually(
        [&] { return call(b->port(), "GET", "/readings/latest?device_id=x").body == onA.body; }));
    // Manual SQL: a newer reading of y shows on both, for y and for all devices.
    sql(a.db.connection(), sensorsys::test::kTestPartitionsSql);
    sql(a.db.connection(), insertSql("y", "2031-01-01T00:00:00Z", 1));
    const std::string newest = databaseLatest(*a.server, std::nullopt);
    for (const int port : {a.port(), b->port()}) {
        EXPECT_TRUE(
            eventually([&] { return call(port, "GET", "/readings/latest").body == newest; }));
        EXPECT_EQ(call(port, "GET", "/readings/latest?device_id=y").body,
                  databaseLatest(*a.server, std::string("y")));
    }
    // An older reading inserted late changes nothing.
    sql(a.db.connection(), insertSql("y", "2020-01-01T00:00:00Z", 2));
    ASSERT_EQ(call(a.port(), "POST", "/readings", readingJson("x", 1, uuidFor(2))).status, 201);
    for (const int port : {a.port(), b->port()}) {
        EXPECT_EQ(call(port, "GET", "/readings/latest").body, newest);
        EXPECT_EQ(call(port, "GET", "/readings/latest?device_id=x").body, onA.body);
    }
    EXPECT_EQ(call(b->port(), "GET", "/readings/latest?device_id=none").status, 404);
    EXPECT_NE(call(a.port(), "GET", "/metrics").body.find("lookups_total{result=\"hit\"}"),
              std::string::npos);
    b->stop();
}

TEST(LatestCache, WithoutItsListenerTheCacheIsOffAndTheAnswersStayCorrect) {
    TestServer a;
    ASSERT_TRUE(eventually([&] { return cacheOn(a.port()); }));
    ASSERT_EQ(call(a.port(), "POST", "/readings", readingJson("x", 5, uuidFor(1))).status, 201);
    // Keep the feed from reconnecting while its session is killed (from the cluster's own
    // database: this one takes no new sessions meanwhile).
    const std::string admin = sensorsys::test::clusterConnection(SENSORSYS_PG_INFO_FILE);
    sql(admin, "ALTER DATABASE \"" + a.db.name() + "\" ALLOW_CONNECTIONS false");
    sql(admin,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
        "'sensorsys-change-feed' AND datname = '" +
            a.db.name() + "'");
    EXPECT_TRUE(eventually([&] { return !cacheOn(a.port()); }));
    ASSERT_EQ(call(a.port(), "POST", "/readings", readingJson("x", 9, uuidFor(2))).status, 201);
    const auto latest = call(a.port(), "GET", "/readings/latest?device_id=x");
    EXPECT_EQ(latest.status, 200);
    EXPECT_EQ(latest.body, databaseLatest(*a.server, std::string("x")));
    EXPECT_NE(latest.body.find("\"n\": 9"), std::string::npos) << latest.body;
    sql(admin, "ALTER DATABASE \"" + a.db.name() + "\" ALLOW_CONNECTIONS true");
    EXPECT_TRUE(eventually([&] { return cacheOn(a.port()); }));
    EXPECT_EQ(call(a.port(), "GET", "/readings/latest?device_id=x").body, latest.body);
    EXPECT_EQ(call(a.port(), "GET", "/readings/latest").body,
              databaseLatest(*a.server, std::nullopt));
}

}  // namespace
}  // namespace sensorsys::server::testing

namespace sensorsys::server {
namespace {

StoredReading stored(const std::string& device, std::int64_t id, std::int64_t tsLocalMicros) {
    StoredReading r;
    r.id = id;
    r.readingId = "0190f1c2-0000-7000-8000-" + std::string(12 - std::to_string(id).size(), '0') +
                  std::to_string(id);
    r.deviceId = device;
    r.tsUtcMicros = tsLocalMicros;
    r.tsLocalMicros = tsLocalMicros;
    r.payloadJson = "{\"n\": " + std::to_string(id) + "}";
    return r;
}

// "device:id" of each row of a snapshot, in its order.
std::string listed(const std::vector<LatestCache::Newest>& rows) {
    std::string text;
    for (const auto& row : rows) {
        text += (text.empty() ? "" : " ") + row.deviceId + ":" + std::to_string(row.id);
        EXPECT_NE(row.json->find("\"n\": " + std::to_string(row.id)), std::string::npos);
    }
    return text;
}

TEST(LatestCacheSnapshot, ListsEachDevicesNewestByIdOnlyWhileOn) {
    LatestCache cache;
    EXPECT_FALSE(cache.snapshot());
    cache.load({stored("a", 5, 2000), stored("b", 3, 1000)});
    ASSERT_TRUE(cache.snapshot());
    EXPECT_EQ(listed(*cache.snapshot()), "b:3 a:5");
    cache.offer(stored("a", 9, 3000));  // newer: replaces a's
    cache.offer(stored("b", 7, 500));   // older by ts_local: b keeps id 3
    cache.offer(stored("c", 8, 100));
    EXPECT_EQ(listed(*cache.snapshot()), "b:3 c:8 a:9");
    cache.turnOff();
    EXPECT_FALSE(cache.snapshot());
}

}  // namespace
}  // namespace sensorsys::server
