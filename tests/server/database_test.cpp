// Migrations, the seed upgrade, the connection pool and the reading store against a real
// PostgreSQL (a fresh database of the fixture's throwaway cluster per test).
#include "connection_pool.hpp"
#include "migrator.hpp"
#include "partition_maintenance.hpp"
#include "pg_test_cluster.hpp"
#include "reading_store.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace sensorsys::server {
namespace {

using namespace Poco::Data::Keywords;

class DatabaseTest : public ::testing::Test {
  protected:
    void SetUp() override { Poco::Data::PostgreSQL::Connector::registerConnector(); }

    Poco::Data::Session session() { return ConnectionPool::connect(db.connection(), 5); }

    template <class T>
    T scalar(const std::string& sql) {
        auto s = session();
        T value{};
        s << sql, into(value), now;
        return value;
    }

    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
};

ReadingInput input(const std::string& device, int n, bool withId = true) {
    ReadingInput r;
    if (withId) {
        char id[64];
        std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", n);
        r.readingId = id;
    }
    r.deviceId = device;
    r.tsUtc = {1800000000000000LL + n * 60000000LL, 0};
    r.tsLocal = {r.tsUtc.epochMicros, 3600};
    r.payloadJson = "{\"n\": " + std::to_string(n) + "}";
    return r;
}

TEST_F(DatabaseTest, MigratingAFreshDatabaseCreatesTheSchemaAndASecondRunIsANoOp) {
    auto s = session();
    EXPECT_EQ(migrate(s).size(), embeddedMigrations().size());
    EXPECT_TRUE(migrate(s).empty());
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.schema_migrations"),
              static_cast<Poco::Int64>(embeddedMigrations().size()));
    // Partitioned by ts_utc, with reading ids unique in the ledger, and nothing to move.
    EXPECT_EQ(scalar<std::string>("SELECT pg_get_partkeydef('sensor_project.readings'::regclass)"),
              "RANGE (ts_utc)");
    EXPECT_NE(scalar<std::string>(
                  "SELECT indexdef FROM pg_indexes WHERE indexname = 'reading_ledger_pkey'")
                  .find("UNIQUE INDEX reading_ledger_pkey ON sensor_project.reading_ledger USING "
                        "btree (reading_id)"),
              std::string::npos);
    EXPECT_EQ(
        scalar<Poco::Int64>("SELECT count(*) FROM pg_class WHERE relname = 'readings_legacy'"), 0);
}

TEST_F(DatabaseTest, TwoInstancesMigratingAtOnceBothSucceed) {
    auto run = [this] {
        auto s = session();
        return migrate(s).size();
    };
    auto a = std::async(std::launch::async, run);
    auto b = std::async(std::launch::async, run);
    EXPECT_EQ(a.get() + b.get(), embeddedMigrations().size());
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.schema_migrations"),
              static_cast<Poco::Int64>(embeddedMigrations().size()));
}

TEST_F(DatabaseTest, ASeedDatabaseIsUpgradedInPlaceKeepingItsRows) {
    std::ifstream in(std::string(SENSORSYS_SOURCE_DIR) + "/tests/server/data/seed_api_schema.sql");
    std::stringstream schema;
    schema << in.rdbuf();
    auto s = session();
    for (const auto& statement : splitSqlStatements(schema.str())) s << statement, now;
    s << "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload)"
         " SELECT 'seed-pi', t, t, jsonb_build_object('cpu_temp', jsonb_build_object('c', 40 + i % "
         "10))"
         " FROM generate_series(1, 2000) AS i, LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00'"
         " + i * interval '1 minute' AS t) x",
        now;
    const auto before = scalar<std::string>(
        "SELECT md5(string_agg(id || device_id || ts_utc || ts_local || payload::text, ',' ORDER "
        "BY id))"
        " FROM sensor_project.readings");

    EXPECT_EQ(migrate(s).size(), embeddedMigrations().size());

    // Until they are moved into partitions the rows are read from the table from before.
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings_legacy"), 2000);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 0);
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(DISTINCT reading_id) FROM sensor_project.stored_readings"),
              2000);
    EXPECT_EQ(scalar<std::string>("SELECT md5(string_agg(id || device_id || ts_utc || ts_local || "
                                  "payload::text, ',' ORDER BY id))"
                                  " FROM sensor_project.stored_readings"),
              before);
    // The seed's rows read back through the store with the seed's shape (+00:00).
    ConnectionPool pool(db.connection(), 2, std::chrono::milliseconds(5000), 5);
    ReadRouting reads(pool);
    ReadingStore store(reads);
    auto latest = store.latest(std::string("seed-pi"));
    ASSERT_TRUE(latest);
    EXPECT_NE(latest->json().find("\"ts_local\": \"2025-01-02T09:20:00+00:00\""), std::string::npos)
        << latest->json();
    // New readings go into the upgraded table next to the old ones.
    EXPECT_EQ(store.insertBulk({input("seed-pi", 1), input("seed-pi", 2)}), 2);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings WHERE id > 2000"),
              2);
    // A seed row's id is known to the ledger: sent again, it is not stored twice.
    ReadingInput again = input("seed-pi", 3);
    again.readingId = scalar<std::string>(
        "SELECT reading_id::text FROM sensor_project.readings_legacy ORDER BY id LIMIT 1");
    EXPECT_FALSE(store.insert(again).created);

    // The move: every row once, in its partition, the old table gone.
    PartitionSettings settings;
    settings.moveBatchRows = 300;
    std::ostringstream progress;
    PartitionMaintenance::moveAll(s, settings, progress);
    EXPECT_NE(progress.str().find("2000/2000 row(s) moved"), std::string::npos) << progress.str();
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM pg_class WHERE relname = "
                                  "'readings_legacy'"),
              0);
    EXPECT_EQ(scalar<std::string>("SELECT md5(string_agg(id || device_id || ts_utc || ts_local || "
                                  "payload::text, ',' ORDER BY id))"
                                  " FROM sensor_project.readings WHERE id <= 2000"),
              before);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 2002);
    EXPECT_EQ(scalar<std::string>("SELECT string_agg(name, ',' ORDER BY lo) FROM "
                                  "sensor_project.readings_partitions WHERE lo < '2026-01-01'"),
              "readings_p20250101");
}

TEST_F(DatabaseTest, BulkInsertIsOneTransactionAndIdempotent) {
    auto s = session();
    migrate(s);
    ConnectionPool pool(db.connection(), 2, std::chrono::milliseconds(5000), 5);
    ReadRouting reads(pool);
    ReadingStore store(reads);
    std::vector<ReadingInput> batch;
    for (int i = 0; i < 360; ++i) batch.push_back(input("bulk", i));
    batch.push_back(input("bulk", 5));  // a duplicate inside the batch
    EXPECT_EQ(store.insertBulk(batch), 360);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(DISTINCT xmin::text) FROM sensor_project.readings"),
              1);
    EXPECT_EQ(store.insertBulk(batch), 0);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 360);
    // Readings without reading_id (old clients) get one from the server each time.
    EXPECT_EQ(store.insertBulk({input("old", 1, false), input("old", 1, false)}), 2);
}

TEST_F(DatabaseTest, SingleInsertReportsCreatedThenReturnsTheStoredReading) {
    auto s = session();
    migrate(s);
    ConnectionPool pool(db.connection(), 2, std::chrono::milliseconds(5000), 5);
    ReadRouting reads(pool);
    ReadingStore store(reads);
    auto first = store.insert(input("one", 7));
    EXPECT_TRUE(first.created);
    auto again = store.insert(input("one", 7));
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.reading.id, first.reading.id);
    EXPECT_EQ(again.reading.tsLocalOffset, 3600);
}

TEST_F(DatabaseTest, HotStatementsArePreparedOncePerConnection) {
    auto s = session();
    migrate(s);
    ConnectionPool pool(db.connection(), 1, std::chrono::milliseconds(5000), 5);
    ReadRouting reads(pool);
    ReadingStore store(reads);
    store.insertBulk({input("p", 1)});
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(store.latest(std::nullopt));
        ASSERT_TRUE(store.latest(std::string("p")));
    }
    const auto prepared = pool.run([](Connection& c) {
        Poco::Int64 n = 0;
        c.session() << "SELECT count(*) FROM pg_prepared_statements", into(n), now;
        return n;
    });
    EXPECT_LT(prepared, 20);
    EXPECT_GE(prepared, 2);
}

TEST_F(DatabaseTest, PoolWaitsForAConnectionAndTimesOutWhenNoneIsFreed) {
    ConnectionPool pool(db.connection(), 1, std::chrono::milliseconds(300), 5);
    {
        auto held = pool.acquire();
        EXPECT_THROW(pool.acquire(), PoolTimeout);
        EXPECT_EQ(pool.stats().inUse, 1);
    }
    ConnectionPool patient(db.connection(), 1, std::chrono::milliseconds(60000), 5);
    std::promise<void> acquired;
    std::optional<ConnectionPool::Lease> held(patient.acquire());
    std::thread waiter([&] {
        auto lease = patient.acquire();  // blocks until the main thread releases
        acquired.set_value();
    });
    while (patient.stats().waiting == 0) std::this_thread::yield();
    held.reset();
    acquired.get_future().get();
    waiter.join();
    EXPECT_EQ(patient.stats().inUse, 0);
}

TEST_F(DatabaseTest, UnreachableDatabaseIsReportedAsUnavailable) {
    ConnectionPool pool("host=127.0.0.1 port=1 user=postgres dbname=postgres", 1,
                        std::chrono::milliseconds(100), 2);
    EXPECT_THROW(pool.acquire(), DatabaseUnavailable);
    EXPECT_EQ(pool.stats().size, 0);
}

}  // namespace
}  // namespace sensorsys::server
