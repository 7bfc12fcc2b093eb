// The partitioned readings table (V010): partitions made ahead and on demand, reading ids stored
// once across partitions, retention by dropping partitions, pruning of range reads, and the
// online move of a table from before partitioning (resumable after a kill).
#include "api_request.hpp"
#include "connection_pool.hpp"
#include "migrator.hpp"
#include "partition_maintenance.hpp"
#include "pg_test_cluster.hpp"
#include "read_routing.hpp"
#include "reading_store.hpp"
#include "rollup_worker.hpp"
#include "timestamp.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Statement.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iterator>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace sensorsys::server {
namespace {

using namespace Poco::Data::Keywords;

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kHour = 3600 * kSecond;

std::int64_t micros(const std::string& rfc3339) {
    return parseTimestamp(rfc3339)->epochMicros;
}

class PartitionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        auto s = session();
        migrate(s);
    }

    Poco::Data::Session session() { return ConnectionPool::connect(db.connection(), 5); }

    template <class T>
    T scalar(const std::string& sql) {
        auto s = session();
        T value{};
        s << sql, into(value), now;
        return value;
    }

    std::string partitions() {
        return scalar<std::string>(
            "SELECT COALESCE(string_agg(name || ' ' || to_char(lo AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD') || '..' || to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ', ' ORDER "
            "BY lo), '') FROM sensor_project.readings_partitions");
    }

    static ReadingInput reading(const std::string& device, const std::string& id,
                                std::int64_t tsUtc, std::int64_t tsLocal) {
        ReadingInput r;
        r.readingId = id;
        r.deviceId = device;
        r.tsUtc = {tsUtc, 0};
        r.tsLocal = {tsLocal, 0};
        r.payloadJson = "{\"t\": 1}";
        return r;
    }

    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
    ConnectionPool pool{db.connection(), 4, std::chrono::milliseconds(5000), 5};
    ReadRouting reads{pool};
    ReadingStore store{reads};
};

TEST_F(PartitionTest, AReadingIdIsStoredOnceAcrossAPartitionBoundary) {
    const std::string id = "0190f1c2-0000-7000-8000-000000000001";
    const auto january = micros("2030-01-31T23:59:59.999999Z");
    const auto february = micros("2030-02-01T00:00:00Z");
    EXPECT_TRUE(store.insert(reading("b", id, january, january)).created);
    // The same id again, dated in the next month's partition: a duplicate, not a second row.
    const auto again = store.insert(reading("b", id, february, february));
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.reading.tsUtcMicros, january);
    EXPECT_EQ(store.insertBulk({reading("b", id, february, february)}), 0);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 1);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings_p20300101"), 1);
}

TEST_F(PartitionTest, AReadingForATimeWithoutPartitionIsStoredAfterMakingIt) {
    const auto may2019 = micros("2019-05-17T12:00:00Z");
    EXPECT_EQ(partitions().find("readings_p20190501"), std::string::npos) << partitions();
    std::vector<StoredReading> stored;
    EXPECT_EQ(store.insertBulk(
                  {reading("old", "0190f1c2-0000-7000-8000-000000000002", may2019, may2019),
                   reading("old", "0190f1c2-0000-7000-8000-000000000003",
                           may2019 + 90LL * 86400 * kSecond, may2019 + 90LL * 86400 * kSecond)},
                  &stored),
              2);
    EXPECT_EQ(stored.size(), 2u);
    // Every month between the batch's first and last time, none twice.
    EXPECT_NE(partitions().find("readings_p20190501 2019-05-01..2019-06-01, readings_p20190601 "
                                "2019-06-01..2019-07-01, readings_p20190701 2019-07-01..2019-08-01,"
                                " readings_p20190801 2019-08-01..2019-09-01"),
              std::string::npos)
        << partitions();
}

TEST_F(PartitionTest, WithExternalPartitionsNoneIsMadeAndAMissingOneIsUnavailableNotLost) {
    ReadingStore external(reads, kExternalPartitions);
    auto s = session();
    PartitionSettings settings;
    settings.interval = kExternalPartitions;
    EXPECT_EQ(PartitionMaintenance::makeAhead(s, settings), 0);
    const auto t = micros("2019-05-17T12:00:00Z");
    // 503 to the client, which keeps the reading and sends it again.
    EXPECT_THROW(external.insertBulk({reading("x", "0190f1c2-0000-7000-8000-000000000031", t, t)}),
                 DatabaseUnavailable);
    EXPECT_EQ(partitions().find("2019"), std::string::npos) << partitions();
    // Once the partition manager made it, the same reading is stored.
    PartitionMaintenance::makePartitions(s, "1 month", t, t + 1);
    EXPECT_EQ(external.insertBulk({reading("x", "0190f1c2-0000-7000-8000-000000000031", t, t)}), 1);
    EXPECT_TRUE(validPartitionInterval(kExternalPartitions));
}

TEST_F(PartitionTest, TwoServersMakingPartitionsAheadAtOnceMakeEachOnce) {
    PartitionSettings settings;
    auto run = [&] {
        auto s = session();
        return PartitionMaintenance::makeAhead(s, settings);
    };
    auto a = std::async(std::launch::async, run);
    auto b = std::async(std::launch::async, run);
    a.get();
    b.get();
    // From a day ago to two months ahead, contiguous, no overlap.
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(*) FROM sensor_project.readings_partitions p JOIN "
                  "sensor_project.readings_partitions q ON p.name < q.name AND p.lo < q.hi AND "
                  "q.lo < p.hi"),
              0);
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(*) FROM generate_series(now() - interval '1 day', now() + interval "
                  "'2 months', interval '1 day') t WHERE NOT EXISTS (SELECT 1 FROM "
                  "sensor_project.readings_partitions p WHERE t >= p.lo AND t < p.hi)"),
              0);
}

TEST_F(PartitionTest, ANewIntervalFitsItsPartitionsAroundTheExistingOnes) {
    auto s = session();
    const auto jan = micros("2031-01-10T00:00:00Z");
    EXPECT_EQ(PartitionMaintenance::makePartitions(s, "1 month", jan, jan + 1), 1);
    // Weekly from now on: the week holding Jan 31 starts inside January's partition, so it
    // begins where January ends.
    EXPECT_EQ(PartitionMaintenance::makePartitions(s, "1 week", micros("2031-01-20T00:00:00Z"),
                                                   micros("2031-02-10T00:00:00Z")),
              2);
    EXPECT_EQ(partitions(),
              "readings_p20310101 2031-01-01..2031-02-01, readings_p20310201 "
              "2031-02-01..2031-02-03, readings_p20310203 2031-02-03..2031-02-10");
    EXPECT_FALSE(validPartitionInterval("1 hour"));
    EXPECT_FALSE(validPartitionInterval("0 days"));
    EXPECT_FALSE(validPartitionInterval("1 month 2 days"));
    EXPECT_TRUE(validPartitionInterval("2 weeks"));
}

TEST_F(PartitionTest, RetentionDropsWholePartitionsAndForgetsTheirIds) {
    const auto nowMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const std::int64_t day = 86400 * kSecond;
    std::vector<ReadingInput> batch;
    int n = 0;
    for (int daysAgo : {200, 120, 10, 0}) {
        const auto t = nowMicros - daysAgo * day;
        char id[64];
        std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", ++n);
        batch.push_back(reading("ret", id, t, t));
    }
    ASSERT_EQ(store.insertBulk(batch), 4);
    auto s = session();
    while (RollupWorker::refreshOnce(s) > 0) {
    }
    const auto rollupsBefore = scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.rollup_1m");
    ASSERT_GT(rollupsBefore, 0);

    PartitionSettings settings;
    settings.retentionDays = 90;
    const auto kept = PartitionMaintenance::applyRetention(s, settings);
    // The partitions holding the readings of 200 and 120 days ago went whole; no reading was
    // deleted row by row (that would have marked its minute for the rollups).
    EXPECT_GE(kept.droppedPartitions.size(), 2u);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 2);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.rollup_dirty"), 0);
    EXPECT_EQ(kept.ledgerRows, 2);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.reading_ledger"), 2);
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(*) FROM sensor_project.readings_partitions WHERE hi <= now() - "
                  "interval '90 days'"),
              0);
    // The history stays unless asked otherwise.
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.rollup_1m"), rollupsBefore);
    EXPECT_EQ(kept.rollupRows, 0);
    // A partition that still holds a kept day stays, even if most of it is older.
    settings.retentionDays = 5;
    PartitionMaintenance::applyRetention(s, settings);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings_partitions WHERE "
                                  "hi <= now() - interval '5 days'"),
              0);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings_partitions WHERE "
                                  "lo <= now() - interval '5 days' AND hi > now() - interval "
                                  "'5 days'"),
              1);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings WHERE ts_utc > "
                                  "now() - interval '1 day'"),
              1);
}

TEST_F(PartitionTest, RetentionWithRollupsDeletesTheRollupsOfDroppedReadings) {
    const auto nowMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const auto old = nowMicros - 200LL * 86400 * kSecond;
    ASSERT_EQ(store.insertBulk(
                  {reading("r", "0190f1c2-0000-7000-8000-000000000011", old, old),
                   reading("r", "0190f1c2-0000-7000-8000-000000000012", nowMicros, nowMicros)}),
              2);
    auto s = session();
    while (RollupWorker::refreshOnce(s) > 0) {
    }
    PartitionSettings settings;
    settings.retentionDays = 30;
    settings.retentionRollups = true;
    const auto kept = PartitionMaintenance::applyRetention(s, settings);
    EXPECT_GT(kept.rollupRows, 0);
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(*) FROM sensor_project.rollup_1m WHERE bucket < now() - interval "
                  "'30 days'"),
              0);
    EXPECT_GT(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.rollup_1m"), 0);
}

// The partitions a statement's plan reads (pruned ones are not in EXPLAIN's output).
std::vector<std::string> scannedPartitions(const std::string& plan) {
    static const std::regex partition("readings_p[0-9]{8}");
    std::vector<std::string> names;
    std::istringstream in(plan);
    std::string word;
    while (in >> word) {
        if (std::regex_match(word, partition) &&
            std::find(names.begin(), names.end(), word) == names.end()) {
            names.push_back(word);
        }
    }
    return names;
}

TEST_F(PartitionTest, RangeReadsByTsLocalReadOnlyThePartitionsWithin14Hours) {
    auto s = session();
    PartitionMaintenance::makePartitions(s, "1 month", micros("2030-01-01T00:00:00Z"),
                                         micros("2031-01-01T00:00:00Z"));
    // A client 13 hours ahead that wrote its wall time as UTC: ts_local is in February, the
    // row in January's partition.
    const auto utc = micros("2030-01-31T20:00:00Z");
    ASSERT_EQ(
        store.insertBulk(
            {reading("east", "0190f1c2-0000-7000-8000-000000000021", utc, utc + 13 * kHour),
             reading("west", "0190f1c2-0000-7000-8000-000000000022", micros("2030-02-01T10:00:00Z"),
                     micros("2030-02-01T10:00:00Z") - 12 * kHour)}),
        2);
    RangeQuery feb;
    feb.start = {micros("2030-02-01T00:00:00Z"), 0};
    feb.end = {micros("2030-02-28T23:59:59Z"), 0};
    const auto rows = store.page(feb, std::nullopt, 100);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].deviceId, "east");

    // The plans of the pages' statements inside sensor_project.readings_page, as auto_explain
    // logs them to this client: a day of June reads June's partition (and no other).
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(db.connection().c_str()),
                                                      &PQfinish);
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
    std::string logged;
    PQsetNoticeProcessor(
        conn.get(),
        [](void* into, const char* message) { *static_cast<std::string*>(into) += message; },
        &logged);
    auto run = [&](const std::string& sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
        EXPECT_NE(PQresultStatus(r.get()), PGRES_FATAL_ERROR)
            << sql << ": " << PQresultErrorMessage(r.get());
    };
    for (const char* setting :
         {"LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
          "SET auto_explain.log_nested_statements = on", "SET client_min_messages = log"}) {
        run(setting);
    }
    run(std::string("PREPARE page_all AS ") + kPageAllSql);
    run(std::string("PREPARE page_device AS ") + kPageDeviceSql);
    // The ts_utc bounds the server passes for a ts_local range.
    auto args = [](const std::string& from, const std::string& to) {
        const auto [lo, hi] = utcBoundsOfLocal(micros(from), micros(to));
        return "('" + from + "', '" + to + "', '" + from + "', -1, 100, '" + lo + "', '" + hi + "'";
    };
    auto plan = [&](const std::string& sql) {
        logged.clear();
        run(sql);
        EXPECT_NE(logged.find("Subplans Removed"), std::string::npos)
            << "not a generic plan pruned at its start:\n"
            << logged;
        return scannedPartitions(logged);
    };
    const std::vector<std::string> june{"readings_p20300601"};
    const std::vector<std::string> juneJuly{"readings_p20300601", "readings_p20300701"};
    // Each plan is the same from its first execution on (a generic one): run them repeatedly.
    for (int i = 0; i < 7; ++i) {
        const std::string day = args("2030-06-10T00:00:00Z", "2030-06-11T00:00:00Z");
        EXPECT_EQ(plan("EXECUTE page_all" + day + ")"), june) << logged;
        EXPECT_EQ(plan("EXECUTE page_device" + day + ", 'east')"), june) << logged;
        // 13 h into July: the last hours of June's partition may hold such a ts_local too.
        EXPECT_EQ(
            plan("EXECUTE page_all" + args("2030-07-01T13:00:00Z", "2030-07-02T00:00:00Z") + ")"),
            juneJuly)
            << logged;
    }
}

TEST_F(PartitionTest, LatestOfADeviceIsByTsLocalEvenWhenItsTsUtcIsADayOlder) {
    auto s = session();
    PartitionMaintenance::makePartitions(s, "1 month", micros("2030-01-01T00:00:00Z"),
                                         micros("2031-01-01T00:00:00Z"));
    const auto t = micros("2030-03-01T10:00:00Z");
    // The newest by ts_utc is in March; the newest by ts_local (13 h behind t) was taken 27 h
    // earlier, in February's partition, by a clock 14 h ahead.
    ASSERT_EQ(store.insertBulk(
                  {reading("edge", "0190f1c2-0000-7000-8000-000000000041", t, t - 14 * kHour),
                   reading("edge", "0190f1c2-0000-7000-8000-000000000042", t - 27 * kHour,
                           t - 13 * kHour),
                   reading("edge", "0190f1c2-0000-7000-8000-000000000043", t - 40 * kHour,
                           t - 40 * kHour)}),
              3);
    const auto latest = store.latest(std::string("edge"));
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->readingId, "0190f1c2-0000-7000-8000-000000000042");
    const auto all = store.latestPerDevice();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].readingId, "0190f1c2-0000-7000-8000-000000000042");
}

// The newest reading of each device found by readings_latest (V011) against the readings
// themselves: "device:same" or "device:differs", per device, in order.
std::string latestAgreesWithTheReadings(ReadingStore& store, Poco::Data::Session& s) {
    std::vector<std::string> devices, expected;
    s << "SELECT device_id, reading_id::text FROM (SELECT DISTINCT ON (device_id) * FROM "
         "sensor_project.stored_readings ORDER BY device_id, ts_local DESC, id DESC) x ORDER BY "
         "device_id",
        into(devices), into(expected), now;
    const auto all = store.latestPerDevice();
    std::string verdict;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto one = store.latest(devices[i]);
        const bool same = one && one->readingId == expected[i] && i < all.size() &&
                          all[i].deviceId == devices[i] && all[i].readingId == expected[i];
        verdict += (i ? ", " : "") + devices[i] + (same ? ":same" : ":differs");
    }
    if (all.size() != devices.size()) verdict += " (latestPerDevice has a different count)";
    return verdict;
}

TEST_F(PartitionTest, LatestIsFoundForRecentSilentAndOutOfOrderDevicesAndAfterRetention) {
    auto s = session();
    const auto nowMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const std::int64_t day = 86400 * kSecond;
    PartitionMaintenance::makePartitions(s, "1 month", nowMicros - 400 * day, nowMicros + 40 * day);
    auto id = [](int n) {
        char text[64];
        std::snprintf(text, sizeof text, "0190f1c2-0000-7000-8000-%012d", n);
        return std::string(text);
    };
    // "recent" sends now and (late) an older one; "silent" stopped a year ago, its newest by
    // ts_local written by a clock 13 h behind; "ahead" has a reading 20 days in the future.
    const auto t = nowMicros - day;
    const auto year = nowMicros - 365 * day;
    ASSERT_EQ(
        store.insertBulk({reading("recent", id(1), t, t), reading("silent", id(2), year, year),
                          reading("silent", id(3), year + 20 * kHour, year + 7 * kHour),
                          reading("silent", id(4), year + 10 * kHour, year + 10 * kHour),
                          reading("ahead", id(5), nowMicros + 20 * day, nowMicros + 20 * day),
                          reading("ahead", id(6), t, t)}),
        6);
    ASSERT_EQ(store.insertBulk({reading("recent", id(7), t - 3 * day, t - 3 * day)}), 1);
    EXPECT_EQ(store.latest(std::string("recent"))->readingId, id(1));
    EXPECT_EQ(store.latest(std::string("silent"))->readingId, id(4));
    EXPECT_EQ(store.latest(std::string("ahead"))->readingId, id(5));
    EXPECT_FALSE(store.latest(std::string("nobody")));
    // A reading stored by SQL, not through the server: its device is listed too (V011's trigger).
    s << "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES "
         "('by-sql', now(), now(), '{}')",
        now;
    EXPECT_EQ(latestAgreesWithTheReadings(store, s),
              "ahead:same, by-sql:same, recent:same, silent:same");
    // Retention drops the year-old partitions: "silent" has nothing left.
    PartitionSettings settings;
    settings.retentionDays = 90;
    PartitionMaintenance::applyRetention(s, settings);
    EXPECT_FALSE(store.latest(std::string("silent")));
    EXPECT_EQ(latestAgreesWithTheReadings(store, s), "ahead:same, by-sql:same, recent:same");
    // Its device stays listed, with nothing to show.
    EXPECT_EQ(scalar<Poco::Int64>(
                  "SELECT count(*) FROM sensor_project.devices WHERE device_id = 'silent'"),
              1);
}

TEST_F(PartitionTest, SeriesByTsUtcReadOnlyTheirPartitions) {
    auto s = session();
    PartitionMaintenance::makePartitions(s, "1 month", micros("2030-01-01T00:00:00Z"),
                                         micros("2031-01-01T00:00:00Z"));
    std::vector<std::string> lines;
    s << "EXPLAIN SELECT count(*) FROM sensor_project.stored_readings WHERE device_id = 'x' AND "
         "ts_utc >= '2030-03-05' AND ts_utc < '2030-03-06'",
        into(lines), now;
    std::string plan;
    for (const auto& line : lines) plan += line + "\n";
    EXPECT_EQ(scannedPartitions(plan), std::vector<std::string>{"readings_p20300301"}) << plan;
}

// A database as the server left it before V010: migrated to V009 with rows.
class LegacyTableTest : public PartitionTest {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        auto all = embeddedMigrations();
        std::vector<Migration> before;
        std::copy_if(all.begin(), all.end(), std::back_inserter(before),
                     [](const Migration& m) { return m.version < 10; });
        auto s = session();
        migrate(s, before);
        s << "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload)"
             " SELECT 'd' || (i % 7), t, t, jsonb_build_object('t', i % 40)"
             " FROM generate_series(1, 20000) i, LATERAL (SELECT timestamptz '2029-11-20Z' + i *"
             " interval '7 minutes' AS t) x",
            now;
        legacyChecksum = checksum("sensor_project.readings");
        s << "SELECT reading_id::text FROM sensor_project.readings ORDER BY id", into(legacyIds),
            now;
        migrate(s);
    }

    std::string checksum(const std::string& table) {
        return scalar<std::string>(
            "SELECT md5(string_agg(id || reading_id::text || device_id || ts_utc || ts_local || "
            "payload::text, ',' ORDER BY id)) FROM " +
            table + " WHERE id <= 20000");
    }

    std::string legacyChecksum;
    std::vector<std::string> legacyIds;
};

TEST_F(LegacyTableTest, RowsMoveOnlineWhileIngestGoesOnNoneLostNoneTwice) {
    PartitionSettings settings;
    settings.moveBatchRows = 700;
    std::atomic<bool> moving{true};
    std::atomic<int> sent{0};
    // Ingest meanwhile: new readings, and every hundredth legacy reading sent again.
    auto ingest = std::async(std::launch::async, [&] {
        int i = 0;
        while (moving.load() || i < 20) {
            std::vector<ReadingInput> batch;
            for (int k = 0; k < 50; ++k, ++i) {
                char id[64];
                std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", i);
                const auto t = micros("2030-01-15T00:00:00Z") + i * kSecond;
                batch.push_back(reading("new", id, t, t));
            }
            const auto legacy = static_cast<std::size_t>(i) % legacyIds.size();
            batch.push_back(reading("d1", legacyIds[legacy], micros("2030-01-16T00:00:00Z"),
                                    micros("2030-01-16T00:00:00Z")));
            store.insertBulk(batch);
            sent = i;
            // Reads see every row once the whole time.
            RangeQuery all;
            all.start = {micros("2029-11-01T00:00:00Z"), 0};
            all.end = {micros("2029-12-31T00:00:00Z"), 0};
            EXPECT_EQ(store.page(all, std::nullopt, 100).size(), 100u);
        }
    });
    auto s = session();
    std::ostringstream progress;
    PartitionMaintenance::moveAll(s, settings, progress);
    moving = false;
    ingest.get();
    EXPECT_NE(progress.str().find("20000/20000 row(s) moved"), std::string::npos) << progress.str();
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM pg_class WHERE relname = "
                                  "'readings_legacy'"),
              0);
    EXPECT_EQ(checksum("sensor_project.readings"), legacyChecksum);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings WHERE id <= 20000"),
              20000);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings WHERE device_id = "
                                  "'new'"),
              sent.load());
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) - count(DISTINCT reading_id) FROM "
                                  "sensor_project.readings"),
              0);
    // The newest reading of each device, found in the moved rows and the new ones.
    EXPECT_EQ(latestAgreesWithTheReadings(store, s),
              "d0:same, d1:same, d2:same, d3:same, d4:same, d5:same, d6:same, new:same");
    // Each moved minute is rolled up again from its partition: equal to the raw rows.
    while (RollupWorker::refreshOnce(s) > 0) {
    }
    EXPECT_EQ(scalar<Poco::Int64>("SELECT sum(count)::int8 FROM sensor_project.rollup_1d WHERE "
                                  "metric = 't' AND device_id <> 'new'"),
              20000);
}

TEST_F(LegacyTableTest, MigrateKilledMidMoveResumesAndEndsWithEveryRowOnce) {
    auto run = [&](bool killAfterProgress) {
        Poco::Pipe errPipe;
        Poco::Process::Args args{"--migrate", "--define", "database.connection=" + db.connection(),
                                 "--define", "database.migrate_batch_rows=100"};
        auto handle =
            Poco::Process::launch(SENSORSYS_SERVER_BINARY, args, nullptr, nullptr, &errPipe);
        Poco::PipeInputStream err(errPipe);
        std::string line, all;
        while (std::getline(err, line)) {
            all += line + "\n";
            if (killAfterProgress && line.find(" row(s) moved (") != std::string::npos) {
                Poco::Process::kill(handle);
                break;
            }
        }
        const int code = handle.wait();
        return std::make_pair(code, all);
    };
    // Before the move: each device's newest reading is found in the legacy table.
    {
        auto s = session();
        EXPECT_EQ(latestAgreesWithTheReadings(store, s),
                  "d0:same, d1:same, d2:same, d3:same, d4:same, d5:same, d6:same");
    }
    const auto killed = run(true);
    EXPECT_NE(killed.first, 0) << killed.second;
    // The killed process's backend may still be committing its last batch: read the
    // progress only once no other session is left in this database.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (scalar<Poco::Int64>("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND pid <> pg_backend_pid()") > 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto moved = scalar<Poco::Int64>("SELECT moved FROM sensor_project.readings_migration");
    EXPECT_GT(moved, 0);
    EXPECT_LT(moved, 20000);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.stored_readings"), 20000);
    const auto resumed = run(false);
    ASSERT_EQ(resumed.first, 0) << resumed.second;
    EXPECT_NE(resumed.second.find("moving " + std::to_string(20000 - moved) + " of 20000"),
              std::string::npos)
        << resumed.second;
    EXPECT_EQ(checksum("sensor_project.readings"), legacyChecksum);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"), 20000);
}

}  // namespace
}  // namespace sensorsys::server
