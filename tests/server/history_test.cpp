// History against a real PostgreSQL: rollups kept by the worker, series equal to aggregating the
// raw rows (random ranges, steps, zones, late data, the one-time build), workers serialised.
#include "connection_pool.hpp"
#include "migrator.hpp"
#include "pg_test_cluster.hpp"
#include "rollup_worker.hpp"
#include "series_store.hpp"
#include "test_partitions.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <sstream>
#include <thread>

namespace sensorsys::server {
namespace {

using namespace Poco::Data::Keywords;

constexpr std::int64_t kSecond = 1000000;
// 2026-10-23T00:00:00Z: four days around Europe's DST end (2026-10-25T01:00Z).
constexpr std::int64_t kWindowStart = 1792713600LL * kSecond;
constexpr std::int64_t kWindowLength = 4 * 86400LL * kSecond;

struct Bucket {
    std::int64_t t = 0;
    Poco::Int64 count = 0;
    double min = 0, max = 0, avg = 0, first = 0, last = 0;
};

class HistoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        auto s = session();
        migrate(s);
        s << sensorsys::test::kTestPartitionsSql, now;
    }

    Poco::Data::Session session() { return ConnectionPool::connect(db.connection(), 5); }

    void exec(const std::string& sql) {
        auto s = session();
        s << sql, now;
    }

    Poco::Int64 count(const std::string& sql) {
        auto s = session();
        Poco::Int64 n = 0;
        s << sql, into(n), now;
        return n;
    }

    void refreshAll() {
        auto s = session();
        while (RollupWorker::refreshOnce(s) > 0) {
        }
    }

    // n readings per device at random instants of the window; some sensors fail, some values
    // are not numbers.
    void insertRandom(const std::string& device, int n, double seed, std::int64_t from,
                      std::int64_t length) {
        auto s = session();
        s << "SELECT setseed(" + std::to_string(seed) + ")", now;
        std::ostringstream sql;
        sql << "INSERT INTO sensor_project.readings"
            << " (device_id, ts_utc, ts_local, payload) SELECT '" << device << "', t, t,"
            << " CASE WHEN random() < 0.05 THEN jsonb_build_object('bme280',"
            << " jsonb_build_object('error', 'no device'), 'n', i)"
            << " WHEN random() < 0.05 THEN jsonb_build_object('n', 'text')"
            << " ELSE jsonb_build_object('bme280', jsonb_build_object('temperature',"
            << " jsonb_build_object('c', round((random() * 30)::numeric, 2))), 'n', i) END"
            << " FROM generate_series(1, " << n << ") i, LATERAL (SELECT to_timestamp((" << from
            << " + floor(random() * " << length << "))::float8 / 1000000 + i * 0) AS t) x";
        s << sql.str(), now;
    }

    std::vector<Bucket> viaSeries(const SeriesQuery& q) {
        ConnectionPool pool(db.connection(), 2, std::chrono::milliseconds(5000), 5);
        ReadRouting reads(pool);
        SeriesStore store(reads);
        auto root =
            Poco::JSON::Parser().parse(store.seriesJson(q)).extract<Poco::JSON::Object::Ptr>();
        auto points = root->getArray("series")->getObject(0)->getArray("points");
        std::vector<Bucket> out;
        for (std::size_t i = 0; i < points->size(); ++i) {
            auto p = points->getObject(static_cast<unsigned>(i));
            Bucket b;
            b.t = parseTimestamp(p->getValue<std::string>("t"))->epochMicros;
            b.count = p->getValue<Poco::Int64>("count");
            b.min = p->getValue<double>("min");
            b.max = p->getValue<double>("max");
            b.avg = p->getValue<double>("avg");
            b.first = p->getValue<double>("first");
            b.last = p->getValue<double>("last");
            out.push_back(b);
        }
        return out;
    }

    std::vector<Bucket> viaRaw(const SeriesQuery& q);
    void expectSeriesEqualRaw(std::mt19937& random, int cases);

    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
};

// The definition a series must meet: the raw rows of the range grouped by date_bin (elapsed
// steps) or by the zone's wall clock (6h, 1d).
std::vector<Bucket> HistoryTest::viaRaw(const SeriesQuery& q) {
    std::string bucket = "date_bin(interval '" + std::to_string(q.step.seconds) +
                         " seconds', ts_utc, TIMESTAMPTZ '2000-01-01Z')";
    if (q.step.name == "6h")
        bucket = "timezone($5, date_bin('6 hours', timezone($5, ts_utc), TIMESTAMP '2000-01-01'))";
    if (q.step.name == "1d") bucket = "date_trunc('day', ts_utc, $5)";
    std::string device = q.deviceIds.front(), path = "{" + q.metrics.front() + "}", tz = q.tz;
    for (auto& c : path)
        if (c == '.') c = ',';
    std::string start = formatUtcForSql(q.start.epochMicros),
                end = formatUtcForSql(q.end.epochMicros);
    std::vector<Poco::Int64> t, n;
    std::vector<double> lo, hi, avg, first, last;
    auto s = session();
    s << "SELECT (extract(epoch FROM b) * 1000000)::int8, count(*)::int8, min(v), max(v),"
         " sum(v) / count(*), (array_agg(v ORDER BY ts_utc, id))[1],"
         " (array_agg(v ORDER BY ts_utc DESC, id DESC))[1] FROM (SELECT " +
             bucket +
             " AS b, ts_utc, id, (payload #>> $2::text[])::float8 AS v"
             " FROM sensor_project.readings WHERE device_id = $1 AND ts_utc >= $3::timestamptz"
             " AND ts_utc < $4::timestamptz AND jsonb_typeof(payload #> $2::text[]) = 'number'"
             " AND NOT COALESCE(payload -> ($2::text[])[1] ? 'error', false)"
             " AND $5 <> '') x GROUP BY b ORDER BY b",
        use(device), use(path), use(start), use(end), use(tz), into(t), into(n), into(lo), into(hi),
        into(avg), into(first), into(last), now;
    std::vector<Bucket> out(t.size());
    for (std::size_t i = 0; i < t.size(); ++i)
        out[i] = {t[i], n[i], lo[i], hi[i], avg[i], first[i], last[i]};
    return out;
}

void expectSame(const std::vector<Bucket>& series, const std::vector<Bucket>& raw) {
    ASSERT_EQ(series.size(), raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        SCOPED_TRACE(formatTimestamp({raw[i].t, 0}));
        EXPECT_EQ(series[i].t, raw[i].t);
        EXPECT_EQ(series[i].count, raw[i].count);
        EXPECT_EQ(series[i].min, raw[i].min);
        EXPECT_EQ(series[i].max, raw[i].max);
        EXPECT_NEAR(series[i].avg, raw[i].avg, 1e-9 * std::abs(raw[i].avg) + 1e-12);
        EXPECT_EQ(series[i].first, raw[i].first);
        EXPECT_EQ(series[i].last, raw[i].last);
    }
}

void HistoryTest::expectSeriesEqualRaw(std::mt19937& random, int cases) {
    const char* zones[] = {"UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York",
                           "Australia/Lord_Howe"};
    const char* metrics[] = {"bme280.temperature.c", "n"};
    std::uniform_int_distribution<std::int64_t> instant(kWindowStart - 3600 * kSecond,
                                                        kWindowStart + kWindowLength);
    std::size_t compared = 0;
    for (int i = 0; i < cases; ++i) {
        SeriesQuery q;
        q.deviceIds = {random() % 2 ? "a" : "b"};
        q.metrics = {metrics[random() % 2]};
        q.tz = zones[random() % 5];
        q.step = seriesSteps()[random() % seriesSteps().size()];
        std::int64_t x = instant(random), y = instant(random);
        if (random() % 3 == 0) x = x / (3600 * kSecond) * 3600 * kSecond;  // on an hour
        q.start = {std::min(x, y), 0};
        q.end = {std::max(x, y), 0};
        SCOPED_TRACE(q.deviceIds[0] + " " + q.metrics[0] + " " + q.tz + " " +
                     std::string(q.step.name) + " " + formatTimestamp(q.start) + " .. " +
                     formatTimestamp(q.end));
        const auto raw = viaRaw(q);
        expectSame(viaSeries(q), raw);
        if (HasFailure()) return;
        compared += raw.size();
    }
    EXPECT_GT(compared, static_cast<std::size_t>(cases));  // the ranges held data
}

TEST_F(HistoryTest, SeriesEqualRawAggregationForRandomRangesStepsAndZones) {
    insertRandom("a", 4000, 0.1, kWindowStart, kWindowLength);
    insertRandom("b", 3000, 0.2, kWindowStart, kWindowLength);
    refreshAll();
    EXPECT_EQ(count("SELECT count(*) FROM sensor_project.rollup_dirty"), 0);
    EXPECT_GT(count("SELECT count(*) FROM sensor_project.rollup_1d"), 0);
    std::mt19937 random(7);
    expectSeriesEqualRaw(random, 60);
}

TEST_F(HistoryTest, ALateBackfillIsInTheSeriesBeforeAndAfterTheWorkerRollsItUp) {
    insertRandom("a", 3000, 0.3, kWindowStart, kWindowLength);
    insertRandom("b", 3000, 0.4, kWindowStart, kWindowLength);
    refreshAll();
    // A Pi that was offline sends a day-old backlog: only its own minutes become dirty.
    insertRandom("a", 800, 0.5, kWindowStart + 86400 * kSecond, 6 * 3600 * kSecond);
    // A second batch over the same hours: minutes listed twice in the dirty table.
    insertRandom("a", 400, 0.55, kWindowStart + 86400 * kSecond, 6 * 3600 * kSecond);
    EXPECT_GT(count("SELECT count(*) FROM sensor_project.rollup_dirty"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM sensor_project.rollup_dirty WHERE device_id <> 'a'"), 0);
    std::mt19937 random(11);
    expectSeriesEqualRaw(random, 30);
    refreshAll();
    EXPECT_EQ(count("SELECT count(*) FROM sensor_project.rollup_dirty"), 0);
    expectSeriesEqualRaw(random, 30);
}

TEST_F(HistoryTest, RowsOlderThanTheRollupsAreBuiltInResumableDaysAndServedMeanwhile) {
    insertRandom("a", 3000, 0.6, kWindowStart, kWindowLength);
    insertRandom("b", 2000, 0.7, kWindowStart, kWindowLength);
    // As if these rows predated V006: no rollups, no dirty pairs, the build still to do.
    exec(
        "TRUNCATE sensor_project.rollup_1m, sensor_project.rollup_1h, sensor_project.rollup_1d,"
        " sensor_project.rollup_dirty");
    exec("UPDATE sensor_project.rollup_backfill SET next_from = '" + formatUtcForSql(kWindowStart) +
         "', until_ts = '" + formatUtcForSql(kWindowStart + kWindowLength) + "'");
    std::mt19937 random(13);
    expectSeriesEqualRaw(random, 20);
    auto s = session();
    EXPECT_EQ(RollupWorker::backfillStep(s), 3);  // one day done, three to go
    expectSeriesEqualRaw(random, 20);
    std::ostringstream progress;
    RollupWorker::backfill(s, progress);
    EXPECT_NE(progress.str().find("3/3 day(s) done"), std::string::npos) << progress.str();
    EXPECT_EQ(RollupWorker::backfillStep(s), 0);
    EXPECT_GT(count("SELECT count(*) FROM sensor_project.rollup_1d"), 0);
    expectSeriesEqualRaw(random, 20);
}

TEST_F(HistoryTest, ANamedInstancesPathsStartWithItsNameAndFailedSensorsCountForNothing) {
    exec(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES"
        " ('k', '2026-11-27T05:00:10Z', '2026-11-27T05:00:10Z', '{\"indoor\": {\"humidity\":"
        " {\"rh\": 45.5}}, \"outdoor\": {\"error\": \"no device at 0x77\"},"
        " \"disk\": {\"used_mb\": 8000, \"label\": \"root\"}, \"ok\": true}')");
    refreshAll();
    auto s = session();
    std::vector<std::string> metrics;
    s << "SELECT metric FROM sensor_project.rollup_1m ORDER BY metric", into(metrics), now;
    EXPECT_EQ(metrics, (std::vector<std::string>{"disk.used_mb", "indoor.humidity.rh"}));
}

TEST_F(HistoryTest, AWorkerFindingTheLockHeldDoesNothingAndTheHolderFinishesTheWork) {
    insertRandom("a", 200, 0.8, kWindowStart, 3600 * kSecond);
    const auto dirty = count("SELECT count(*) FROM sensor_project.rollup_dirty");
    ASSERT_GT(dirty, 0);
    auto holder = session();
    Poco::Int64 key = kRollupLockKey;
    holder << "SELECT pg_advisory_lock($1)", use(key), now;
    auto other = session();
    EXPECT_EQ(RollupWorker::refreshOnce(other), -1);
    EXPECT_EQ(count("SELECT count(*) FROM sensor_project.rollup_dirty"), dirty);
    holder << "SELECT pg_advisory_unlock($1)", use(key), now;
    EXPECT_EQ(RollupWorker::refreshOnce(other), dirty);
}

TEST_F(HistoryTest, TwoWorkersUnderConcurrentIngestLeaveRollupsEqualToRawRows) {
    Poco::Logger& log = Poco::Logger::get("history-test");
    RollupWorker one(db.connection(), 5, std::chrono::milliseconds(5), log);
    RollupWorker two(db.connection(), 5, std::chrono::milliseconds(5), log);
    one.start();
    two.start();
    for (int batch = 0; batch < 20; ++batch)
        insertRandom(batch % 2 ? "a" : "b", 300, 0.01 * batch, kWindowStart, 2 * 3600 * kSecond);
    one.stop();
    two.stop();
    refreshAll();
    // Every minute rollup equals a fresh aggregation of its raw rows, and nothing is missing.
    EXPECT_EQ(count("SELECT count(*) FROM (SELECT r.device_id, p.metric, date_bin('1 minute',"
                    " r.ts_utc, TIMESTAMPTZ '2000-01-01Z') b, count(*) n, sum(p.value) s"
                    " FROM sensor_project.readings r, sensor_project.numeric_paths(r.payload) p"
                    " GROUP BY 1, 2, 3) raw FULL JOIN sensor_project.rollup_1m m"
                    " ON m.device_id = raw.device_id AND m.metric = raw.metric AND m.bucket = raw.b"
                    " WHERE m.count IS DISTINCT FROM raw.n OR abs(m.sum - raw.s) > 1e-6"
                    " OR m.sum IS NULL OR raw.s IS NULL"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM (SELECT device_id, metric, date_bin('1 hour', bucket,"
                    " TIMESTAMPTZ '2000-01-01Z') b, sum(count) n FROM sensor_project.rollup_1m"
                    " GROUP BY 1, 2, 3) m FULL JOIN sensor_project.rollup_1h h"
                    " ON h.device_id = m.device_id AND h.metric = m.metric AND h.bucket = m.b"
                    " WHERE h.count IS DISTINCT FROM m.n"),
              0);
}

TEST_F(HistoryTest, UnsyncedReadingsAreInNoSeriesRolledUpOrNot) {
    // Two readings in one minute; the second's time could never be confirmed by its agent.
    exec(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload, ts_quality)"
        " VALUES ('u', '2026-11-27T05:00:10Z', '2026-11-27T05:00:10Z', '{\"t\": 20}', NULL),"
        " ('u', '2026-11-27T05:00:20Z', '2026-11-27T05:00:20Z', '{\"t\": 99}', 'unsynced')");
    SeriesQuery q;
    q.deviceIds = {"u"};
    q.metrics = {"t"};
    q.tz = "UTC";
    q.step = seriesSteps().front();
    q.start = *parseTimestamp("2026-11-27T05:00:00Z");
    q.end = *parseTimestamp("2026-11-27T06:00:00Z");
    for (int pass = 0; pass < 2; ++pass) {
        SCOPED_TRACE(pass == 0 ? "from raw rows" : "from the rollups");
        const auto points = viaSeries(q);
        ASSERT_EQ(points.size(), 1U);
        EXPECT_EQ(points[0].count, 1);
        EXPECT_DOUBLE_EQ(points[0].max, 20.0);
        refreshAll();
    }
}

}  // namespace
}  // namespace sensorsys::server
