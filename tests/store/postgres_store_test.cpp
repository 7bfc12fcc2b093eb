// PostgreSQL-only behaviour of the store: a seed agent's table upgraded in place, concurrent
// migrations, recovery after the server restarts, and the unavailable-database error.
#include <gtest/gtest.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <mutex>

#include <set>
#include <thread>

#include "pg_test_cluster.hpp"
#include "retention.hpp"
#include "store/migrations.hpp"
#include "store/postgres_store.hpp"
#include "store_test_support.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

using namespace Poco::Data::Keywords;

Poco::Data::Session rawSession(const TemporaryDatabase& db) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session s("PostgreSQL", db.connection());
    s << "SET client_min_messages = warning", now;
    return s;
}

TEST(PostgresStore, SeedTableIsUpgradedInPlace) {
    TemporaryDatabase db(SENSORSYS_PG_INFO_FILE, "seed");
    // The seed agent's own schema file (copied from the seed reference), with its rows.
    const std::string schema =
        readFile(std::string(SENSORSYS_TEST_DATA_DIR) + "/seed_agent_schema.sql");
    for (const auto& statement : sensorsys::splitSqlStatements(schema)) db.execute(statement);
    db.execute(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload, is_synced)"
        " SELECT 'pi-seed', timestamptz '2026-11-20 00:00Z' + make_interval(mins => i),"
        "  timestamptz '2026-11-20 00:00Z' + make_interval(mins => i),"
        "  jsonb_build_object('cpu_temp', jsonb_build_object('c', i)), i > 3"
        " FROM generate_series(1, 10) AS i");

    agent::PostgresStore store(db.connection());
    const auto st = store.stats();
    EXPECT_EQ(st.unsynced, 3);  // the seed's unsynced rows are the backlog
    EXPECT_EQ(st.synced, 7);
    const auto rows = store.oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 3u);
    std::set<std::string> ids;
    for (const auto& r : rows) {
        EXPECT_EQ(r.readingId.size(), 36u) << r.readingId;
        ids.insert(r.readingId);
        const auto json = Poco::JSON::Parser().parse(r.json).extract<Poco::JSON::Object::Ptr>();
        EXPECT_EQ(json->getValue<std::string>("device_id"), "pi-seed");
        EXPECT_EQ(json->getValue<std::string>("reading_id"), r.readingId);
        // Seed rows had no offset: they come back at +00:00, as the seed returned them.
        EXPECT_TRUE(json->getValue<std::string>("ts_local").starts_with("2026-11-20T00:0"));
        EXPECT_TRUE(json->getValue<std::string>("ts_local").ends_with(".000000+00:00"));
    }
    EXPECT_EQ(ids.size(), 3u);

    auto s = rawSession(db);
    int rowsKept = 0;
    int distinctIds = 0;
    s << "SELECT count(*), count(DISTINCT reading_id) FROM sensor_project.readings", into(rowsKept),
        into(distinctIds), now;
    EXPECT_EQ(rowsKept, 10);
    EXPECT_EQ(distinctIds, 10);
    // New readings go into the same table, next to the seed's.
    store.add(reading(1));
    EXPECT_EQ(store.stats().unsynced, 4);
}

// Collects what a logger writes (the store logs a failed VACUUM instead of throwing).
class CapturingChannel final : public Poco::Channel {
  public:
    void log(const Poco::Message& message) override {
        std::lock_guard lock(_mutex);
        _texts.push_back(message.getText());
    }
    std::vector<std::string> texts() {
        std::lock_guard lock(_mutex);
        return _texts;
    }

  private:
    std::mutex _mutex;
    std::vector<std::string> _texts;
};

TEST(PostgresStore, RetentionDeleteVacuumsTheTable) {
    TemporaryDatabase db(SENSORSYS_PG_INFO_FILE, "vacuum");
    agent::PostgresStore store(db.connection());
    for (int i = 0; i < 20; ++i) store.add(reading(i));
    std::vector<std::int64_t> ids;
    for (const auto& r : store.oldestUnsynced(20)) ids.push_back(r.id);
    store.markSynced(ids);

    auto capture = Poco::makeAuto<CapturingChannel>();
    auto& logger = Poco::Logger::get("sensorsys.store");
    logger.setChannel(capture);  // shares ownership (AutoPtr)
    const auto result = store.deleteStratified(10, 0);
    logger.setChannel(nullptr);
    EXPECT_EQ(result.deletedSynced, 10);
    EXPECT_TRUE(capture->texts().empty()) << capture->texts().front();
    EXPECT_EQ(store.stats().synced, 10);
}

// A disk nearly full of something else (99 %).
class FullDisk final : public agent::FilesystemUsage {
  public:
    agent::DiskUsage usage(const std::string& path) const override {
        measured = path;
        return {100 * 1024 * 1024, 99 * 1024 * 1024};
    }
    mutable std::string measured;
};

TEST(PostgresStore, RetentionOnALocalServerTakesSyncedAndKeepsTheBacklog) {
    TemporaryDatabase db(SENSORSYS_PG_INFO_FILE, "retention");
    agent::PostgresStore store(db.connection());
    for (int i = 0; i < 40; ++i) store.add(reading(i));
    std::vector<std::int64_t> synced;
    for (const auto& r : store.oldestUnsynced(40)) {
        if (std::stoi(r.readingId.substr(24)) % 4 != 0) synced.push_back(r.id);
    }
    store.markSynced(synced);

    FullDisk disk;
    agent::Retention retention({50, 64}, store, disk);
    const auto report = retention.check();
    ASSERT_EQ(report.outcome, agent::RetentionReport::Outcome::Deleted) << report.message;
    EXPECT_EQ(disk.measured, store.filesystemPath());  // the server's data folder
    EXPECT_EQ(report.deletedSynced, 30);
    EXPECT_EQ(report.deletedUnsynced, 0);  // the store is far below min_store_mb
    EXPECT_EQ(report.keptFromTsUtc, tsUtc(0));
    EXPECT_EQ(report.keptToTsUtc, tsUtc(36));
    const auto st = store.stats();
    EXPECT_EQ(st.unsynced, 10);
    EXPECT_EQ(st.synced, 0);
    EXPECT_EQ(st.deletedSynced, 30);
}

TEST(PostgresStore, ConcurrentFirstOpensMigrateOnce) {
    TemporaryDatabase db(SENSORSYS_PG_INFO_FILE, "conc");
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            agent::PostgresStore store(db.connection());
            store.add(reading(t));
            ok[t] = 1;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, std::vector<int>(4, 1));
    auto s = rawSession(db);
    int migrations = 0;
    int readings = 0;
    s << "SELECT count(*) FROM sensor_project.agent_schema_migrations", into(migrations), now;
    s << "SELECT count(*) FROM sensor_project.readings", into(readings), now;
    EXPECT_EQ(migrations, static_cast<int>(agent::postgresqlMigrations().size()));
    EXPECT_EQ(readings, 4);
}

TEST(PostgresStore, LocalServerIsMeasuredAtItsDataDirectory) {
    TemporaryDatabase db(SENSORSYS_PG_INFO_FILE, "local");
    agent::PostgresStore store(db.connection());
    // The test cluster runs on 127.0.0.1 and we are its superuser: its data folder is local.
    EXPECT_NE(store.filesystemPath().find("/tmp/sensorsys-pg."), std::string::npos)
        << store.filesystemPath();
}

TEST(PostgresStore, UnreachableServerThrowsStoreUnavailableNamingIt) {
    // A port nothing listens on (the cluster's port + 1 is not guaranteed free, so use 1).
    agent::PostgresStore store("host=127.0.0.1 port=1 dbname=nothing user=nobody");
    try {
        store.add(reading(1));
        FAIL() << "add() succeeded without a server";
    } catch (const agent::StoreUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find("PostgreSQL store (host=127.0.0.1 port=1"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(store.oldestUnsynced(1), agent::StoreUnavailable);
    EXPECT_THROW(store.markSynced({1}), agent::StoreUnavailable);
    EXPECT_THROW(store.quarantine({{1, "x"}}), agent::StoreUnavailable);
    EXPECT_THROW(store.stats(), agent::StoreUnavailable);
    EXPECT_THROW(store.deleteStratified(1, 0), agent::StoreUnavailable);
    EXPECT_EQ(store.filesystemPath(), "");
}

TEST(PostgresStore, RecoversByItselfAfterTheServerRestarts) {
    TempDir dir;
    PrivateCluster cluster((dir / "cluster.info").string());
    TemporaryDatabase db(cluster.infoFile(), "restart");
    agent::PostgresStore store(db.connection());
    store.add(reading(1));

    cluster.pause();
    EXPECT_THROW(store.add(reading(2)), agent::StoreUnavailable);
    EXPECT_THROW(store.stats(), agent::StoreUnavailable);
    // An agent starting while the database is down opens its store anyway.
    agent::PostgresStore startedDuringOutage(db.connection());
    EXPECT_THROW(startedDuringOutage.oldestUnsynced(1), agent::StoreUnavailable);
    cluster.resume();

    // No restart of the store: the next calls reconnect.
    store.add(reading(2));
    store.add(reading(3));
    const auto rows = store.oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].readingId, readingId(1));
    EXPECT_EQ(rows[2].readingId, readingId(3));
    EXPECT_EQ(startedDuringOutage.stats().unsynced, 3);
}

}  // namespace
}  // namespace sensorsys::test
