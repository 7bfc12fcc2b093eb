// The system as a user sees it, with the real binaries (issue #5 §2): a reading the agent takes
// is returned by GET /readings within two intervals, and both programs refuse a bad
// configuration file with one message naming the key and exit code 78 (EX_CONFIG).
#include <map>
#include <string>
#include <vector>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent_server_fixture.hpp"
#include "pg_test_cluster.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kDevice = "system-e2e";
constexpr int kExConfig = 78;

// An RFC 3339 timestamp as the server prints it ("...Z" or "+00:00", fraction optional).
Poco::Timestamp parseTimestamp(const std::string& text) {
    int tzd = 0;
    Poco::DateTime time =
        Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, tzd);
    time.makeUTC(tzd);
    return time.timestamp();
}

std::string utcText(const Poco::Timestamp& time) {
    return Poco::DateTimeFormatter::format(time, "%Y-%m-%dT%H:%M:%SZ");
}

class SystemE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            if (entry.path().filename() != "example_c.so") fs::remove(entry.path());
        }
        const auto migrate = run({SENSORSYS_SERVER_BINARY, "--migrate", dbDefine()});
        ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
        deviceToken = token({"--device", kDevice});
        readToken = token({"--read"});
    }

    std::string dbDefine() const { return "--define=database.connection=" + db.connection(); }

    std::string token(const std::vector<std::string>& scope) const {
        return createToken(dbDefine(), scope);
    }

    std::unique_ptr<Background> startServer() {
        return startHealthyServer(
            {SENSORSYS_SERVER_BINARY, dbDefine(), "--define=http.port=" + std::to_string(port),
             "--define=auth.enabled=true"},
            work / "server", port);
    }

    std::unique_ptr<Background> startAgent(const std::string& interval) {
        writeFile(work / "agent.properties", "");
        std::vector<std::string> argv{SENSORSYS_AGENT_BINARY, "--config",
                                      (work / "agent.properties").string()};
        for (const auto& define : std::vector<std::string>{
                 "plugins.dir=" + plugins.path().string(),
                 "agent.device_id=" + std::string(kDevice),
                 "agent.interval=" + interval,
                 "store.path=" + (work / "buffer.db").string(),
                 "agent.status_file=" + (work / "status.json").string(),
                 "sync.url=http://127.0.0.1:" + std::to_string(port),
                 "sync.token=" + deviceToken,
             }) {
            argv.insert(argv.end(), {"--define", define});
        }
        return std::make_unique<Background>(argv, work / "agent");
    }

    TempDir plugins;
    TempDir work;
    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "system"};
    int port = freePort();
    std::string deviceToken;
    std::string readToken;
};

TEST_F(SystemE2E, EveryReadingTheAgentTakesIsReturnedByGetReadingsWithinTwoIntervals) {
    constexpr Poco::Timespan::TimeDiff kIntervalMicros = 1'000'000;
    const auto server = startServer();
    const auto agent = startAgent("1");
    const Poco::Timestamp started;
    const Poco::Timespan hour(3600, 0);
    const std::string range = "/readings?start_date=" + utcText(started - hour) +
                              "&end_date=" + utcText(started + hour) + "&device_id=" + kDevice;
    // reading_id -> time from the reading's ts_utc to the first GET /readings that returned it.
    // Polled every 50 ms, so each figure is at most ~50 ms plus one request late: conservative.
    std::map<std::string, Poco::Timespan::TimeDiff> lateness;
    const bool fiveSeen = eventually(
        [&] {
            const auto [code, body] = httpGet(port, range, readToken);
            const Poco::Timestamp seen;
            if (code != 200) return false;
            const auto list = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
            for (std::size_t i = 0; i < list->size(); ++i) {
                const auto reading = list->getObject(static_cast<unsigned>(i));
                const auto id = reading->getValue<std::string>("reading_id");
                if (lateness.count(id) == 0) {
                    lateness[id] = seen - parseTimestamp(reading->getValue<std::string>("ts_utc"));
                }
            }
            return lateness.size() >= 5;
        },
        20s);
    ASSERT_TRUE(fiveSeen) << lateness.size() << " readings seen; agent log:\n" << agent->err();
    for (const auto& [id, micros] : lateness) {
        EXPECT_LE(micros, 2 * kIntervalMicros)
            << id << " appeared " << micros / 1000 << " ms after it was taken";
    }
}

TEST_F(SystemE2E, AgentAndServerRefuseABadConfigurationFileNamingTheKeyWithExit78) {
    struct Case {
        std::string line;
        std::string key;
    };
    // As a service starts them: a configuration file, no --once, no subcommand.
    const auto agentFile = work / "agent.properties";
    for (const auto& c : std::vector<Case>{{"agent.interval = often", "agent.interval"},
                                           {"store.connector = mysql", "store.connector"},
                                           {"sync.batch_size = -5", "sync.batch_size"}}) {
        writeFile(agentFile, "plugins.dir = " + plugins.path().string() + "\n" + "store.path = " +
                                 (work / "buffer.db").string() + "\n" + c.line + "\n");
        const auto r = run({SENSORSYS_AGENT_BINARY, "--config", agentFile.string()}, {}, 20s);
        EXPECT_EQ(r.exit_code, kExConfig) << "agent, " << c.line << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr(c.key)) << "agent, " << c.line;
        EXPECT_EQ(r.out, "") << "agent, " << c.line;
    }
    const auto serverFile = work / "server.properties";
    for (const auto& c : std::vector<Case>{{"http.port = eighty", "http.port"},
                                           {"database.pool_size = 0", "database.pool_size"},
                                           {"auth.enabled = maybe", "auth.enabled"}}) {
        writeFile(serverFile, "database.connection = " + db.connection() + "\n" +
                                  "http.port = " + std::to_string(port) + "\n" + c.line + "\n");
        const auto r = run({SENSORSYS_SERVER_BINARY, "--config", serverFile.string()}, {}, 20s);
        EXPECT_EQ(r.exit_code, kExConfig) << "server, " << c.line << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr(c.key)) << "server, " << c.line;
        EXPECT_EQ(r.out, "") << "server, " << c.line;
    }
}

}  // namespace
}  // namespace sensorsys::test
