// The real agent and the real server over real HTTP, a real PostgreSQL behind the server and a
// real SQLite buffer: readings arrive, outages and kill -9 lose nothing and store nothing twice.
#include <signal.h>

#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pg_test_cluster.h"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::pair<int, std::string> httpGet(int port, const std::string& target, const std::string& token) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) request.set("Authorization", "Bearer " + token);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return {static_cast<int>(response.getStatus()), body};
}

class AgentServerE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            if (entry.path().filename() != "example_c.so") fs::remove(entry.path());
        }
        const auto migrate = run({SENSORSYS_SERVER_BINARY, "--migrate", dbDefine()});
        ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
        const auto device =
            run({SENSORSYS_SERVER_BINARY, "token", "create", "--device", kDevice, dbDefine()});
        ASSERT_EQ(device.exit_code, 0) << device.err;
        deviceToken = device.out.substr(0, device.out.find('\n'));
        const auto reader = run({SENSORSYS_SERVER_BINARY, "token", "create", "--read", dbDefine()});
        ASSERT_EQ(reader.exit_code, 0) << reader.err;
        readToken = reader.out.substr(0, reader.out.find('\n'));
    }

    std::string dbDefine() const { return "--define=database.connection=" + db.connection(); }

    std::unique_ptr<Background> startServer() {
        auto server = std::make_unique<Background>(
            std::vector<std::string>{SENSORSYS_SERVER_BINARY, dbDefine(),
                                     "--define=http.port=" + std::to_string(port),
                                     "--define=auth.enabled=true"},
            work / "server");
        EXPECT_TRUE(eventually(
            [&] {
                try {
                    return httpGet(port, "/health", "").first == 200;
                } catch (const std::exception&) {
                    return false;
                }
            },
            20s))
            << server->err();
        return server;
    }

    std::unique_ptr<Background> startAgent(const std::string& interval = "0.2") {
        return std::make_unique<Background>(
            std::vector<std::string>{SENSORSYS_AGENT_BINARY,
                                     "--config",
                                     (work / "none.properties").string(),
                                     "--define",
                                     "plugins.dir=" + plugins.path().string(),
                                     "--define",
                                     "agent.device_id=" + std::string(kDevice),
                                     "--define",
                                     "agent.interval=" + interval,
                                     "--define",
                                     "store.path=" + (work / "buffer.db").string(),
                                     "--define",
                                     "agent.status_file=" + (work / "status.json").string(),
                                     "--define",
                                     "sync.url=http://127.0.0.1:" + std::to_string(port),
                                     "--define",
                                     "sync.token=" + deviceToken,
                                     "--define",
                                     "sync.backoff_max=1",
                                     "--define",
                                     "sync.timeout=2",
                                     "--define",
                                     "retention.check_interval=3600"},
            work / "agent");
    }

    // --status of the buffer; retried, since it competes with a running agent for the file.
    Poco::JSON::Object::Ptr status() const {
        ProcessResult r;
        for (int attempt = 0; attempt < 5; ++attempt) {
            r = run({SENSORSYS_AGENT_BINARY, "--status", "--json", "--config",
                     (work / "none.properties").string(), "--define",
                     "store.path=" + (work / "buffer.db").string(), "--define",
                     "agent.status_file=" + (work / "status.json").string()});
            if (r.exit_code == 0) break;
        }
        if (r.exit_code != 0) throw std::runtime_error("--status failed: " + r.err);
        return Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    }

    // Every reading_id the server holds for this device, counting repeats.
    std::multiset<std::string> serverIds() const {
        const auto [code, body] =
            httpGet(port,
                    "/readings?start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z"
                    "&device_id=" +
                        std::string(kDevice),
                    readToken);
        EXPECT_EQ(code, 200) << body;
        std::multiset<std::string> ids;
        const auto list = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < list->size(); ++i) {
            ids.insert(
                list->getObject(static_cast<unsigned>(i))->getValue<std::string>("reading_id"));
        }
        return ids;
    }

    static constexpr const char* kDevice = "e2e-pi";
    // For phases that only drain: ticks fall on day boundaries, so no new reading can slip in
    // between "backlog is 0" and the comparison.
    static constexpr const char* kNoTicks = "86400";
    TempDir plugins;
    TempDir work;
    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "e2e"};
    int port = freePort();
    std::string deviceToken;
    std::string readToken;
};

TEST_F(AgentServerE2E, AReadingReachesTheServerWithinTwoIntervalsAndSigtermIsPrompt) {
    writeFile(work / "none.properties", "");
    const auto server = startServer();
    const auto agent = startAgent("1");
    EXPECT_TRUE(eventually(
        [&] { return httpGet(port, "/readings/latest?device_id=e2e-pi", readToken).first == 200; },
        3s))
        << agent->err();
    const auto [code, body] = httpGet(port, "/readings/latest?device_id=e2e-pi", readToken);
    EXPECT_THAT(body, ::testing::HasSubstr(R"("example_c")"));
    std::chrono::milliseconds took{};
    EXPECT_EQ(agent->stop(SIGTERM, 5s, &took), 0) << agent->err();
    EXPECT_LT(took, 2s);
}

TEST_F(AgentServerE2E, ServerDownForAWhileThenBacklogDrainsExactlyOnce) {
    writeFile(work / "none.properties", "");
    const auto agent = startAgent();
    std::this_thread::sleep_for(2s);  // no server: readings pile up in the store
    EXPECT_GT(status()->getValue<long long>("backlog"), 0);
    const auto server = startServer();
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    const auto drained =
        eventually([&] { return status()->getValue<long long>("backlog") == 0; }, 1ms);
    if (!drained) {
        // Stopped mid-drain: a restart finishes it.
        const auto again = startAgent(kNoTicks);
        EXPECT_TRUE(eventually([&] { return status()->getValue<long long>("backlog") == 0; }, 20s));
        again->stop(SIGTERM, 5s);
    }
    const auto st = status();
    const auto ids = serverIds();
    EXPECT_EQ(static_cast<long long>(ids.size()), st->getValue<long long>("synced_kept"));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicates";
}

TEST_F(AgentServerE2E, KillMinusNineMidSyncLosesNothingAndDuplicatesNothing) {
    writeFile(work / "none.properties", "");
    const auto server = startServer();
    for (int round = 0; round < 2; ++round) {
        const auto agent = startAgent("0.1");
        std::this_thread::sleep_for(1500ms);
        EXPECT_EQ(agent->stop(SIGKILL, 5s), 128 + SIGKILL);
    }
    const auto last = startAgent(kNoTicks);
    EXPECT_TRUE(eventually([&] { return status()->getValue<long long>("backlog") == 0; }, 20s));
    EXPECT_EQ(last->stop(SIGTERM, 5s), 0);
    const auto st = status();
    const auto ids = serverIds();
    EXPECT_GT(ids.size(), 10u);
    EXPECT_EQ(static_cast<long long>(ids.size()), st->getValue<long long>("synced_kept"));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicates";
}

}  // namespace
}  // namespace sensorsys::test
