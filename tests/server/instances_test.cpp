// Two real sensorsys-server processes on one database, as behind nginx with the upstream of
// etc/nginx/sensorsys-instances.conf: readings go in through both, and each background job does
// its work once between them, not once per instance. Rollups: the rollup worker of each takes
// the same advisory lock (rollup_refresh), so the minute rollups equal the raw rows. Alerts: the
// evaluators take a lock per device and the senders claim outbox rows with FOR UPDATE SKIP
// LOCKED, so one firing rule pages a webhook once. No timing assertions: every wait is for a
// condition, with a deadline.
#include "pg_test_cluster.hpp"
#include "scripted_http_server.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace sensorsys::server::testing {
namespace {

using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;
using sensorsys::test::Background;
using sensorsys::test::ScriptedHttpServer;

constexpr const char* kHotRule =
    "rules = hot\nrule.hot.metric = t.c\nrule.hot.above = 30\nrule.hot.clear = 28.5\n";

// A reading of device with {"t": {"c": value}}, `secondsAgo` before now, id from serial.
std::string reading(const std::string& device, int secondsAgo, double value, int serial) {
    const Poco::Timestamp at = Poco::Timestamp() - Poco::Timespan(secondsAgo, 0);
    const std::string ts = Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%S.%FZ");
    char v[32];
    std::snprintf(v, sizeof v, "%.2f", value);
    return "{\"device_id\": \"" + device + "\", \"ts_utc\": \"" + ts + "\", \"ts_local\": \"" + ts +
           "\", \"payload\": {\"t\": {\"c\": " + v + "}}, \"reading_id\": \"" + uuidFor(serial) +
           "\"}";
}

class TwoInstances : public ::testing::Test {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        sensorsys::test::writeFile(
            work / "alerts.properties",
            "receivers = hook\nreceiver.hook.type = webhook\nreceiver.hook.url = " +
                receiver.url() + "/hook\nreceiver.hook.timeout = 2s\n" + kHotRule);
        const auto migrate =
            sensorsys::test::run({SENSORSYS_SERVER_BINARY, "--migrate",
                                  "--define=database.connection=" + db.connection()});
        ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
        for (std::size_t i = 0; i < servers.size(); ++i) {
            ports[i] = sensorsys::test::freePort();
            servers[i] = sensorsys::test::startHealthyServer(
                {SENSORSYS_SERVER_BINARY, "--define=database.connection=" + db.connection(),
                 "--define=http.port=" + std::to_string(ports[i]), "--define=auth.enabled=false",
                 "--define=logging.requests=false", "--define=history.rollup_interval_ms=50",
                 "--define=alerts.file=" + (work / "alerts.properties").string()},
                work / ("server-" + std::to_string(i)), ports[i]);
        }
    }

    // Posts `values` (one a second, the last one now) for device, alternating the instances.
    void post(const std::string& device, const std::vector<double>& values) {
        for (std::size_t i = 0; i < values.size(); ++i) {
            const int secondsAgo = static_cast<int>(values.size() - 1 - i);
            const auto r =
                call(ports[i % 2], "POST", "/readings/bulk",
                     "{\"readings\": [" + reading(device, secondsAgo, values[i], ++serial) + "]}");
            ASSERT_EQ(r.status, 200) << r.body;
        }
    }

    std::int64_t count(const std::string& sql) {
        Poco::Data::Session s("PostgreSQL", db.connection());
        Poco::Int64 n = -1;
        s << sql, into(n), now;
        return n;
    }

    // The webhook bodies' "status" fields, in arrival order.
    std::vector<std::string> notified() const {
        std::vector<std::string> out;
        for (const auto& seen : receiver.seen()) {
            Poco::JSON::Parser parser;
            out.push_back(
                parser.parse(seen.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(
                    "status"));
        }
        return out;
    }

    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "instances"};
    sensorsys::test::TempDir work;
    ScriptedHttpServer receiver;
    std::array<int, 2> ports{};
    std::array<std::unique_ptr<Background>, 2> servers;
    int serial = 0;
};

TEST_F(TwoInstances, RollupsOfReadingsIngestedThroughBothEqualTheRawRows) {
    // 1,500 readings of two devices in bulks of 50, alternately to each instance, over 25 min.
    for (int bulk = 0; bulk < 30; ++bulk) {
        std::string body = "{\"readings\": [";
        for (int i = 0; i < 50; ++i) {
            const std::string device = bulk % 3 ? "roll-a" : "roll-b";
            body += (i ? ", " : "") + reading(device, bulk * 50 + i, 20 + i % 7, ++serial);
        }
        const auto r = call(ports[bulk % 2], "POST", "/readings/bulk", body + "]}");
        ASSERT_EQ(r.status, 200) << r.body;
    }
    const std::string rawPerMinute =
        "SELECT device_id, date_bin('1 minute', ts_utc, TIMESTAMPTZ '2000-01-01Z') AS b, "
        "count(*) AS n FROM sensor_project.readings GROUP BY 1, 2";
    const std::string mismatches =
        "SELECT count(*) FROM (" + rawPerMinute +
        ") raw FULL JOIN (SELECT device_id, bucket, count FROM sensor_project.rollup_1m WHERE "
        "metric = 't.c') m ON m.device_id = raw.device_id AND m.bucket = raw.b WHERE m.count IS "
        "DISTINCT FROM raw.n";
    ASSERT_TRUE(sensorsys::test::eventually(
        [&] {
            return count("SELECT count(*) FROM sensor_project.rollup_dirty") == 0 &&
                   count(mismatches) == 0;
        },
        30s))
        << count(mismatches) << " minute(s) differ";
    const std::int64_t raw = count("SELECT count(*) FROM sensor_project.readings");
    const std::int64_t rolled =
        count("SELECT COALESCE(sum(count), 0)::int8 FROM sensor_project.rollup_1m");
    std::cout << "instances: " << raw << " raw rows, " << rolled << " in the minute rollups"
              << std::endl;
    EXPECT_EQ(raw, 1500);
    EXPECT_EQ(rolled, raw);
    EXPECT_EQ(count(mismatches), 0);
}

TEST_F(TwoInstances, OneFiringRuleSendsOneNotificationNotOnePerInstance) {
    // Fires at the third reading and resolves at the last, each reading to the other instance
    // than the one before, so both evaluators see the device dirty.
    post("hot-1", {25, 26, 31, 32, 33, 31, 34});
    ASSERT_TRUE(sensorsys::test::eventually(
        [&] {
            const auto seen = notified();
            return std::count(seen.begin(), seen.end(), "firing") >= 1;
        },
        30s));
    post("hot-1", {27});
    // The sender sends a receiver's rows in outbox order: a second "firing" row, had another
    // instance written one, would have arrived before the "resolved" one.
    ASSERT_TRUE(sensorsys::test::eventually(
        [&] {
            const auto seen = notified();
            return std::count(seen.begin(), seen.end(), "resolved") >= 1;
        },
        30s));
    const auto seen = notified();
    std::cout << "instances: " << seen.size() << " notification(s) received" << std::endl;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "firing"), 1);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "resolved"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM sensor_project.alert_outbox"), 2);
    for (auto& server : servers) EXPECT_TRUE(server->running()) << server->err();
}

TEST_F(TwoInstances, AReceiverGetsResolvedAfterFiringWhileAnotherInstanceRetriesTheFiring) {
    // The firing notification fails after 3 s; meanwhile the device recovers, and the other
    // instance's sender is free. Its "resolved" must wait for the "firing" (retried after the
    // failure's 1 s backoff), or a pager would be left ringing.
    receiver.answer(sensorsys::test::reply(500, "{}", "", false, 3s));
    post("hot-2", {25, 31});
    ASSERT_TRUE(sensorsys::test::eventually([&] { return !receiver.seen().empty(); }, 30s));
    post("hot-2", {20});
    ASSERT_TRUE(sensorsys::test::eventually(
        [&] {
            const auto seen = notified();
            return std::count(seen.begin(), seen.end(), "resolved") >= 1;
        },
        30s));
    const auto seen = notified();
    std::string order;
    for (const auto& status : seen) order += status + " ";
    std::cout << "instances: received " << order << std::endl;
    // The failed firing, its retry, then the resolved one.
    ASSERT_EQ(seen.size(), 3U) << order;
    EXPECT_EQ(seen[0], "firing") << order;
    EXPECT_EQ(seen[1], "firing") << order;
    EXPECT_EQ(seen[2], "resolved") << order;
}

}  // namespace
}  // namespace sensorsys::server::testing
