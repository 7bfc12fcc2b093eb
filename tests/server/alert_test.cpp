// Alerts end to end: a real server (in process, or the binary where a signal is the point) on
// a real PostgreSQL, readings over HTTP, notifications to a real HTTP receiver in the test.
// No timing assertions: every wait is for a condition, with a deadline.
#include "scripted_http_server.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include <signal.h>

namespace sensorsys::server::testing {
namespace {

using namespace std::chrono_literals;
using sensorsys::test::ScriptedHttpServer;

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kMinute = 60 * kSecond;

std::int64_t nowMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc(std::int64_t micros) {
    return formatTimestamp({micros, 0});
}

// A reading of device with {"t": {"c": value}} (or a sensor error) at micros.
std::string reading(const std::string& device, std::int64_t micros, std::optional<double> value) {
    static int serial = 0;
    char id[64];
    std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", ++serial);
    char v[64];
    std::snprintf(v, sizeof v, "%.3f", value.value_or(0));
    const std::string payload = value ? std::string("{\"t\": {\"c\": ") + v + "}}"
                                      : std::string("{\"t\": {\"error\": \"i2c timeout\"}}");
    return "{\"device_id\": \"" + device + "\", \"ts_utc\": \"" + utc(micros) +
           "\", \"ts_local\": \"" + utc(micros) + "\", \"payload\": " + payload +
           ", \"reading_id\": \"" + id + "\"}";
}

struct Point {
    std::int64_t micros;
    std::optional<double> value;
};

void post(int port, const std::string& device, const std::vector<Point>& points) {
    std::string body = "{\"readings\": [";
    for (std::size_t i = 0; i < points.size(); ++i)
        body += (i ? ", " : "") + reading(device, points[i].micros, points[i].value);
    const auto r = call(port, "POST", "/readings/bulk", body + "]}");
    ASSERT_EQ(r.status, 200) << r.body;
}

struct Seen {
    std::string status;  // "firing" | "resolved"
    std::string rule;
    std::string id;
    std::string summary;
};

// The webhook bodies the receiver got, from request `from` on.
std::vector<Seen> notifications(const ScriptedHttpServer& receiver, std::size_t from = 0) {
    std::vector<Seen> out;
    const auto seen = receiver.seen();
    for (std::size_t i = from; i < seen.size(); ++i) {
        Poco::JSON::Parser parser;
        const auto o = parser.parse(seen[i].body).extract<Poco::JSON::Object::Ptr>();
        const auto alert = o->getArray("alerts")->getObject(0);
        out.push_back({o->getValue<std::string>("status"),
                       alert->getObject("labels")->getValue<std::string>("alertname"),
                       o->getValue<std::string>("notificationId"),
                       alert->getObject("annotations")->getValue<std::string>("summary")});
    }
    return out;
}

int count(const std::vector<Seen>& seen, const std::string& status) {
    int n = 0;
    for (const auto& s : seen) n += s.status == status ? 1 : 0;
    return n;
}

bool eventually(const std::function<bool()>& condition) {
    return sensorsys::test::eventually(condition, 30s);
}

std::string alertsFile(const std::string& receiverUrl, const std::string& rules) {
    return "receivers = hook\nreceiver.hook.type = webhook\nreceiver.hook.url = " + receiverUrl +
           "/hook\nreceiver.hook.timeout = 2s\n" + rules;
}

// An in-process server whose alert rules are `rules` (alerts file text).
class AlertServer {
  public:
    AlertServer(const std::string& text, std::chrono::milliseconds backoffMax = 5min) {
        sensorsys::test::writeFile(dir / "alerts.properties", text);
        server = std::make_unique<TestServer>([&](ServerConfig& c) {
            c.alertsFile = (dir / "alerts.properties").string();
            c.alertsFileRequired = true;
            c.alertRules = loadAlertRules(c.alertsFile, true);
            c.alerts.interval = 50ms;
            c.alerts.catchUpQuiet = 300ms;
            c.alerts.backoffMax = backoffMax;
        });
    }
    int port() const { return server->port(); }
    std::string history(const std::string& device) {
        return call(port(), "GET",
                    "/alerts/history?start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z"
                    "&device_id=" +
                        device)
            .body;
    }

    sensorsys::test::TempDir dir;
    std::unique_ptr<TestServer> server;
};

int occurrences(const std::string& text, const std::string& what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

constexpr const char* kHot =
    "rules = hot\nrule.hot.metric = t.c\nrule.hot.above = 30\nrule.hot.clear = 28.5\n";

TEST(Alerts, ValuesOscillatingBetweenClearAndAboveFireOnceAndResolveOnce) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), kHot));
    const std::int64_t t0 = nowMicros() - 10 * kMinute;
    std::vector<Point> points{{t0, 25}};
    for (int i = 1; i <= 20; ++i) points.push_back({t0 + i * 30 * kSecond, i % 2 ? 31.0 : 29.0});
    points.push_back({nowMicros(), 31});
    post(s.port(), "gh-1", points);
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") >= 1; }));
    const auto alerts = call(s.port(), "GET", "/alerts");
    EXPECT_NE(alerts.body.find("\"state\" : \"FIRING\""), std::string::npos) << alerts.body;
    post(s.port(), "gh-1", {{nowMicros() + kSecond, 28}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") >= 1; }));
    const auto seen = notifications(receiver);
    EXPECT_EQ(count(seen, "firing"), 1);
    EXPECT_EQ(count(seen, "resolved"), 1);
    EXPECT_EQ(call(s.port(), "GET", "/alerts").body, "[]");
}

TEST(Alerts, AFourMinuteExcursionDoesNotFireASixMinuteOneFiresOnce) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), std::string(kHot) + "rule.hot.for = 5m\n"));
    const std::int64_t now = nowMicros();
    std::vector<Point> points;
    for (int i = 0; i <= 40; ++i) {  // every 30 s from now - 20 min
        const std::int64_t at = now - 20 * kMinute + i * 30 * kSecond;
        const bool first = at >= now - 19 * kMinute && at <= now - 15 * kMinute;
        const bool second = at >= now - 6 * kMinute;
        points.push_back({at, first || second ? 31.0 : 25.0});
    }
    post(s.port(), "gh-2", points);
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") >= 1; }));
    post(s.port(), "gh-2", {{now + kSecond, 20}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") >= 1; }));
    EXPECT_EQ(count(notifications(receiver), "firing"), 1);
    const std::string history = s.history("gh-2");
    EXPECT_EQ(occurrences(history, "\"FIRING\""), 1) << history;
    EXPECT_EQ(occurrences(history, "\"PENDING\""), 2) << history;
}

TEST(Alerts, ASensorErrorNeitherFiresNorResolves) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), kHot));
    post(s.port(), "gh-3", {{nowMicros(), 31}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") == 1; }));
    post(s.port(), "gh-3", {{nowMicros() + kSecond, std::nullopt}});
    post(s.port(), "gh-3", {{nowMicros() + 2 * kSecond, 20}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") == 1; }));
    const std::string history = s.history("gh-3");
    EXPECT_EQ(occurrences(history, "\"OK\""), 1) << history;
}

TEST(Alerts, NoDataFiresByTheReceiveClockAndAReadingResolvesIt) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(),
                             "rules = offline\nrule.offline.no_data = 1s\nrule.offline.devices = "
                             "quiet-*\n"));
    post(s.port(), "quiet-1", {{nowMicros(), 20}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") == 1; }));
    EXPECT_NE(call(s.port(), "GET", "/alerts").body.find("NODATA"), std::string::npos);
    post(s.port(), "quiet-1", {{nowMicros(), 20}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") == 1; }));
    EXPECT_EQ(notifications(receiver).front().rule, "offline");
}

TEST(Alerts, ADayOfBacklogInOnePostGivesHistoryAndOneSummary) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), kHot));
    const std::int64_t start = nowMicros() - 25 * 3600 * kSecond;
    std::vector<Point> points;
    for (int i = 0; i < 288; ++i) {  // a day, every 5 minutes; two hot spells
        const bool hot = (i >= 20 && i < 40) || (i >= 100 && i < 130);
        points.push_back({start + i * 5 * kMinute, hot ? 35.0 : 22.0});
    }
    post(s.port(), "pi-greenhouse", points);
    ASSERT_TRUE(eventually([&] { return !notifications(receiver).empty(); }));
    const auto seen = notifications(receiver);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].status, "resolved");
    EXPECT_NE(seen[0].summary.find("hot fired 2 times"), std::string::npos) << seen[0].summary;
    EXPECT_NE(seen[0].summary.find("while pi-greenhouse was offline"), std::string::npos);
    const std::string history = s.history("pi-greenhouse");
    EXPECT_EQ(occurrences(history, "\"FIRING\""), 2) << history;
    EXPECT_EQ(occurrences(history, "\"OK\""), 2) << history;
    // Nothing more is owed: an on-time reading below the threshold sends nothing.
    post(s.port(), "pi-greenhouse", {{nowMicros(), 20}});
    post(s.port(), "pi-greenhouse", {{nowMicros() + kSecond, 31}});
    ASSERT_TRUE(eventually([&] { return notifications(receiver).size() == 2; }));
    EXPECT_EQ(notifications(receiver)[1].status, "firing");
}

TEST(Alerts, AReceiverDownThenBackGetsEachNotificationExactlyOnce) {
    ScriptedHttpServer receiver;
    constexpr std::size_t kDown = 6;
    for (std::size_t i = 0; i < kDown; ++i) receiver.answer(sensorsys::test::reply(503, "down"));
    AlertServer s(alertsFile(receiver.url(), kHot), 200ms);
    post(s.port(), "gh-4", {{nowMicros(), 31}});
    post(s.port(), "gh-4", {{nowMicros() + kSecond, 20}});
    ASSERT_TRUE(eventually([&] {
        const auto seen = receiver.seen().size();
        return seen > kDown && notifications(receiver, kDown).size() >= 2;
    }));
    const auto delivered = notifications(receiver, kDown);
    std::set<std::string> ids;
    for (const auto& n : delivered) EXPECT_TRUE(ids.insert(n.id).second) << "twice: " << n.id;
    EXPECT_EQ(count(delivered, "firing"), 1);
    EXPECT_EQ(count(delivered, "resolved"), 1);
    // The firing went first, as it was owed first.
    EXPECT_EQ(delivered.front().status, "firing");
    const auto metrics = call(s.port(), "GET", "/metrics").body;
    EXPECT_NE(metrics.find("sensorsys_alert_notifications_total{result=\"failed\"} " +
                           std::to_string(kDown)),
              std::string::npos)
        << metrics;
}

TEST(Alerts, TwoServersOnOneDatabaseSendOneNotificationPerTransition) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), kHot));
    ApiServer second(s.server->config, quietLogger());
    second.start();
    const std::int64_t t0 = nowMicros();
    for (int i = 0; i < 20; ++i) {
        const int port = i % 2 ? second.port() : s.port();
        post(port, "gh-5", {{t0 + i * kSecond, i % 4 < 2 ? 31.0 : 20.0}});
    }
    // Five episodes: five firing and five resolved messages, each once.
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") >= 5; }));
    second.stop();
    const auto seen = notifications(receiver);
    EXPECT_EQ(count(seen, "firing"), 5);
    EXPECT_EQ(count(seen, "resolved"), 5);
    std::set<std::string> ids;
    for (const auto& n : seen) EXPECT_TRUE(ids.insert(n.id).second) << "twice: " << n.id;
}

TEST(Alerts, AckMarksTheAlertAndAnUnknownIdIs404) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), kHot));
    post(s.port(), "gh-6", {{nowMicros(), 31}});
    ASSERT_TRUE(eventually(
        [&] { return call(s.port(), "GET", "/alerts").body.find("FIRING") != std::string::npos; }));
    Poco::JSON::Parser parser;
    const auto list =
        parser.parse(call(s.port(), "GET", "/alerts").body).extract<Poco::JSON::Array::Ptr>();
    const auto id = list->getObject(0)->getValue<std::int64_t>("id");
    const auto acked = call(s.port(), "POST", "/alerts/" + std::to_string(id) + "/ack");
    EXPECT_EQ(acked.status, 200) << acked.body;
    EXPECT_NE(call(s.port(), "GET", "/alerts").body.find("\"acked\" : true"), std::string::npos);
    EXPECT_EQ(call(s.port(), "POST", "/alerts/999999/ack").status, 404);
    EXPECT_EQ(call(s.port(), "POST", "/alerts/abc/ack").status, 404);
    const auto bad = call(s.port(), "GET", "/alerts/history?start_date=yesterday&end_date=x");
    EXPECT_EQ(bad.status, 422);
    EXPECT_NE(bad.body.find("start_date"), std::string::npos) << bad.body;
}

TEST(Alerts, ARuleNarrowedToOtherDevicesRetiresTheirAlertsOnlyAndResolvesThem) {
    ScriptedHttpServer receiver;
    AlertServer s(alertsFile(receiver.url(), std::string(kHot) + "rule.hot.devices = gh-8*\n"));
    post(s.port(), "gh-8a", {{nowMicros(), 31}});
    post(s.port(), "gh-8b", {{nowMicros(), 32}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") == 2; }));
    sensorsys::test::writeFile(
        s.dir / "alerts.properties",
        alertsFile(receiver.url(), std::string(kHot) + "rule.hot.devices = gh-8a\n"));
    ASSERT_TRUE(s.server->server->reloadAlerts());
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") == 1; }));
    const auto resolved = notifications(receiver).back();
    EXPECT_NE(resolved.summary.find("gh-8b"), std::string::npos) << resolved.summary;
    EXPECT_NE(resolved.summary.find("no longer covers"), std::string::npos) << resolved.summary;
    const std::string current = call(s.port(), "GET", "/alerts").body;
    EXPECT_NE(current.find("gh-8a"), std::string::npos) << current;
    EXPECT_EQ(current.find("gh-8b"), std::string::npos) << current;
    EXPECT_EQ(occurrences(s.history("gh-8b"), "\"RETIRED\""), 1) << s.history("gh-8b");
    EXPECT_EQ(occurrences(s.history("gh-8a"), "\"RETIRED\""), 0) << s.history("gh-8a");
    // The device still covered keeps its alert: it resolves as usual.
    post(s.port(), "gh-8a", {{nowMicros() + kSecond, 20}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "resolved") == 2; }));
    EXPECT_EQ(count(notifications(receiver), "firing"), 2);
}

// The server binary on a database of the test cluster, its alerts file in dir.
class AlertBinary {
  public:
    AlertBinary(const std::filesystem::path& dir, const std::string& connection,
                const std::string& extra = "")
        : port(sensorsys::test::freePort()) {
        sensorsys::test::writeFile(
            dir / "server.properties",
            "database.connection = " + connection + "\nhttp.port = " + std::to_string(port) +
                "\nauth.enabled = false\nalerts.file = " + (dir / "alerts.properties").string() +
                "\n" + extra);
        process = sensorsys::test::startHealthyServer(
            {SENSORSYS_SERVER_BINARY, "--config", (dir / "server.properties").string()},
            dir / ("server-" + std::to_string(port)), port);
    }

    int port;
    std::unique_ptr<sensorsys::test::Background> process;
};

TEST(AlertsBinary, SighupWithABrokenFileKeepsTheRulesAndAGoodOneReplacesThem) {
    ScriptedHttpServer receiver;
    sensorsys::test::TempDir dir;
    sensorsys::test::TemporaryDatabase db(SENSORSYS_PG_INFO_FILE);
    sensorsys::test::writeFile(dir / "alerts.properties", alertsFile(receiver.url(), kHot));
    AlertBinary server(dir.path(), db.connection());
    ASSERT_TRUE(server.process);
    sensorsys::test::writeFile(dir / "alerts.properties",
                               "rules = hot\nrule.hot.metric = t.c\nrule.hot.above = warm\n");
    ::kill(server.process->pid(), SIGHUP);
    ASSERT_TRUE(eventually(
        [&] { return server.process->err().find("reload refused") != std::string::npos; }));
    EXPECT_NE(server.process->err().find("rule.hot.above"), std::string::npos);
    post(server.port, "gh-7", {{nowMicros(), 31}});
    ASSERT_TRUE(eventually([&] { return count(notifications(receiver), "firing") == 1; }));
    EXPECT_EQ(notifications(receiver).front().rule, "hot");

    sensorsys::test::writeFile(
        dir / "alerts.properties",
        alertsFile(receiver.url(), "rules = cold\nrule.cold.metric = t.c\nrule.cold.below = 10\n"));
    ::kill(server.process->pid(), SIGHUP);
    ASSERT_TRUE(eventually(
        [&] { return server.process->err().find("alerts: reloaded 1") != std::string::npos; }));
    // The firing alert of the removed rule is resolved at the receiver that was paged, leaves
    // GET /alerts and is recorded as RETIRED.
    ASSERT_TRUE(eventually([&] { return notifications(receiver).size() == 2; }));
    const Seen retired = notifications(receiver).back();
    EXPECT_EQ(retired.status, "resolved");
    EXPECT_EQ(retired.rule, "hot");
    EXPECT_NE(retired.summary.find("the rule was removed"), std::string::npos) << retired.summary;
    EXPECT_EQ(call(server.port, "GET", "/alerts").body, "[]");
    const auto history = call(server.port, "GET",
                              "/alerts/history?start_date=2000-01-01T00:00:00Z&end_date=2100-01-"
                              "01T00:00:00Z&device_id=gh-7")
                             .body;
    EXPECT_EQ(occurrences(history, "\"RETIRED\""), 1) << history;
    post(server.port, "gh-7", {{nowMicros() + kSecond, 5}});
    ASSERT_TRUE(eventually([&] { return notifications(receiver).size() == 3; }));
    EXPECT_EQ(notifications(receiver).back().rule, "cold");
    EXPECT_EQ(notifications(receiver).back().status, "firing");
    EXPECT_TRUE(server.process->running());
}

TEST(AlertsBinary, ABadRuleOrAMissingNamedFileStopsTheStartWithExit78NamingTheKey) {
    sensorsys::test::TempDir dir;
    sensorsys::test::writeFile(dir / "bad.properties", "rules = r\nrule.r.below = cold\n");
    for (const auto& [file, key] :
         {std::pair<std::string, std::string>{"bad.properties", "rule.r.below"},
          {"missing.properties", "alerts.file"}}) {
        const auto r = sensorsys::test::run(
            {SENSORSYS_SERVER_BINARY, "--define=alerts.file=" + (dir / file).string(),
             "--define=database.connection=host=127.0.0.1 port=1", "--migrate"});
        EXPECT_EQ(r.exit_code, 78) << r.err;
        EXPECT_NE(r.err.find(key), std::string::npos) << r.err;
    }
}

TEST(AlertsBinary, AServerKilledBeforeDeliveryDeliversOnceAfterRestart) {
    ScriptedHttpServer receiver;
    receiver.setFallback(sensorsys::test::reply(503, "down"));
    sensorsys::test::TempDir dir;
    sensorsys::test::TemporaryDatabase db(SENSORSYS_PG_INFO_FILE);
    sensorsys::test::writeFile(dir / "alerts.properties", alertsFile(receiver.url(), kHot));
    std::size_t before = 0;
    {
        AlertBinary server(dir.path(), db.connection(), "alerts.backoff_max = 1s\n");
        ASSERT_TRUE(server.process);
        post(server.port, "gh-8", {{nowMicros(), 31}});
        // Committed and owed, not delivered: the receiver refused it.
        ASSERT_TRUE(eventually([&] { return !receiver.seen().empty(); }));
        EXPECT_EQ(server.process->stop(SIGKILL, 10s), 128 + SIGKILL);
        before = receiver.seen().size();
    }
    receiver.setFallback(sensorsys::test::reply(200, "{}"));
    AlertBinary again(dir.path(), db.connection(), "alerts.backoff_max = 1s\n");
    ASSERT_TRUE(again.process);
    ASSERT_TRUE(eventually([&] { return notifications(receiver, before).size() == 1; }));
    post(again.port, "gh-8", {{nowMicros() + kSecond, 20}});
    ASSERT_TRUE(
        eventually([&] { return count(notifications(receiver, before), "resolved") == 1; }));
    const auto after = notifications(receiver, before);
    EXPECT_EQ(count(after, "firing"), 1);
    EXPECT_EQ(after.front().id, notifications(receiver).front().id);
}

}  // namespace
}  // namespace sensorsys::server::testing
