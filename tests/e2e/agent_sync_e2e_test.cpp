// The real agent and the real server over real HTTP, a real PostgreSQL behind the server, and
// the agent's buffer in SQLite or in PostgreSQL (every test runs on both): readings arrive,
// outages, failing answers and kill -9 lose nothing and store nothing twice.
#include <signal.h>

#include <optional>
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

#include "pg_test_cluster.hpp"
#include "scripted_http_server.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Parameter: the agent's store.connector.
class AgentServerE2E : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (GetParam() == "postgresql") agentDb.emplace(SENSORSYS_PG_INFO_FILE, "e2eagent");
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

    // Where the agent keeps its buffer, as --define arguments.
    std::vector<std::string> storeDefines() const {
        if (agentDb) {
            return {"--define", "store.connector=postgresql", "--define",
                    "store.connection=" + agentDb->connection()};
        }
        return {"--define", "store.path=" + (work / "buffer.db").string()};
    }

    std::unique_ptr<Background> startServer() {
        return startHealthyServer(
            {SENSORSYS_SERVER_BINARY, dbDefine(), "--define=http.port=" + std::to_string(port),
             "--define=auth.enabled=true"},
            work / "server", port);
    }

    std::unique_ptr<Background> startAgent(const std::string& interval = "0.2") {
        std::vector<std::string> argv{SENSORSYS_AGENT_BINARY,
                                      "--config",
                                      (work / "none.properties").string(),
                                      "--define",
                                      "plugins.dir=" + plugins.path().string(),
                                      "--define",
                                      "agent.device_id=" + std::string(kDevice),
                                      "--define",
                                      "agent.interval=" + interval,
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
                                      "retention.check_interval=3600"};
        const auto store = storeDefines();
        argv.insert(argv.end(), store.begin(), store.end());
        auto agent = std::make_unique<Background>(argv, work / "agent");
        // Up once it says where it syncs to: a SIGTERM before that (while the process is still
        // loading) would meet the default action, as for any program.
        EXPECT_TRUE(
            eventually([&] { return agent->err().find("syncing to") != std::string::npos; }, 20s))
            << agent->err();
        return agent;
    }

    // --status of the buffer; retried, since it competes with a running agent for the file.
    Poco::JSON::Object::Ptr status() const {
        ProcessResult r;
        std::vector<std::string> argv{SENSORSYS_AGENT_BINARY,
                                      "--status",
                                      "--json",
                                      "--config",
                                      (work / "none.properties").string(),
                                      "--define",
                                      "agent.status_file=" + (work / "status.json").string()};
        const auto store = storeDefines();
        argv.insert(argv.end(), store.begin(), store.end());
        for (int attempt = 0; attempt < 5; ++attempt) {
            r = run(argv);
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
    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "e2e"};  // the server's
    std::optional<TemporaryDatabase> agentDb;  // the agent's, for store.connector=postgresql
    int port = freePort();
    std::string deviceToken;
    std::string readToken;
};

TEST_P(AgentServerE2E, AReadingReachesTheServerWithinTwoIntervalsAndSigtermIsPrompt) {
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

TEST_P(AgentServerE2E, ServerDownForAWhileThenBacklogDrainsExactlyOnce) {
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

TEST_P(AgentServerE2E, KillMinusNineMidSyncLosesNothingAndDuplicatesNothing) {
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

// Bulk requests the scripted server saw.
std::size_t bulkPosts(const ScriptedHttpServer& scripted) {
    std::size_t n = 0;
    for (const auto& request : scripted.seen()) {
        if (request.method == "POST" && request.path == "/readings/bulk") ++n;
    }
    return n;
}

// The reading_ids of one bulk request body, in order.
std::vector<std::string> bodyIds(const std::string& body) {
    const auto object = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    const auto readings = object->getArray("readings");
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < readings->size(); ++i) {
        ids.push_back(
            readings->getObject(static_cast<unsigned>(i))->getValue<std::string>("reading_id"));
    }
    return ids;
}

class AgentSyncFaultsE2E : public AgentServerE2E {
  protected:
    // The agent syncs for a while to a server that keeps failing the same way, then the real
    // server takes over the address: the agent retried at a bounded rate (no busy loop), marked
    // nothing synced while failing, then drained everything exactly once without a restart.
    void failThenRecover(const ScriptedReply& failure, std::chrono::milliseconds window) {
        writeFile(work / "none.properties", "");
        auto agent = startAgent();
        std::size_t attempts = 0;
        {
            ScriptedHttpServer scripted(port);
            scripted.setFallback(failure);
            std::this_thread::sleep_for(window);
            attempts = bulkPosts(scripted);
            const auto st = status();
            EXPECT_GT(st->getValue<long long>("backlog"), 0);
            EXPECT_EQ(st->getValue<long long>("synced_kept"), 0) << "marked synced on a failure";
        }
        // Full-jitter backoff capped at sync.backoff_max = 1 s averages one attempt per ~0.5 s
        // (plus the timeout when the server stalls); a loop without backoff makes thousands.
        const auto window_s = std::chrono::duration_cast<std::chrono::seconds>(window).count();
        EXPECT_GE(attempts, 1u);
        EXPECT_LE(attempts, static_cast<std::size_t>(10 * window_s)) << "no backoff between tries";

        const auto server = startServer();
        EXPECT_TRUE(
            eventually([&] { return status()->getValue<long long>("synced_kept") > 0; }, 15s))
            << "no recovery after the server came back: " << agent->err();
        ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
        finishDrain();
        const auto st = status();
        const auto ids = serverIds();
        EXPECT_EQ(static_cast<long long>(ids.size()), st->getValue<long long>("synced_kept"));
        EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicates";
    }

    // Runs the agent without ticks until its backlog is empty.
    void finishDrain() {
        if (status()->getValue<long long>("backlog") == 0) return;
        const auto again = startAgent(kNoTicks);
        EXPECT_TRUE(eventually([&] { return status()->getValue<long long>("backlog") == 0; }, 20s))
            << again->err();
        EXPECT_EQ(again->stop(SIGTERM, 5s), 0) << again->err();
    }
};

TEST_P(AgentSyncFaultsE2E, ServerAnswering500BacksOffThenRecovers) {
    failThenRecover(reply(500, R"({"error": "injected failure"})"), 3s);
}

TEST_P(AgentSyncFaultsE2E, ServerHangingUpAfterTheRequestBacksOffThenRecovers) {
    failThenRecover(reply(200, "{}", "", /*hang_up=*/true), 3s);
}

TEST_P(AgentSyncFaultsE2E, ServerStallingPastTheTimeoutBacksOffThenRecovers) {
    failThenRecover(reply(200, "{}", "", false, 30s), 5s);
}

TEST_P(AgentSyncFaultsE2E, AnItemTheServerRejectsIsQuarantinedAndTheQueueMovesOn) {
    writeFile(work / "none.properties", "");
    auto agent = startAgent();
    // Nothing listens yet: a backlog of a few readings builds up for the first batch.
    std::this_thread::sleep_for(1500ms);
    std::vector<std::string> first;
    {
        ScriptedHttpServer scripted(port);
        scripted.answer(reply(
            200,
            R"({"inserted": 0, "duplicates": 0, "rejected": [{"index": 1, "error": "test"}]})"));
        scripted.setFallback(reply(503, R"({"error": "later"})", "1"));
        ASSERT_TRUE(eventually([&] { return bulkPosts(scripted) >= 1; }, 10s)) << agent->err();
        first = bodyIds(scripted.seen().front().body);
        ASSERT_GE(first.size(), 2u) << "the first batch should hold the backlog";
        // The answer reached the agent before the next request went out.
        ASSERT_TRUE(eventually([&] { return bulkPosts(scripted) >= 2; }, 10s)) << agent->err();
    }
    const auto server = startServer();
    EXPECT_TRUE(eventually(
        [&] {
            const auto ids = serverIds();
            return !ids.empty();
        },
        15s))
        << agent->err();
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    finishDrain();

    const auto st = status();
    EXPECT_EQ(st->getValue<long long>("quarantined"), 1);
    const auto ids = serverIds();
    EXPECT_EQ(ids.count(first[1]), 0u) << "the rejected reading was sent again";
    // The first batch's other readings were acknowledged by the scripted server; everything
    // after it reached the real server exactly once.
    const auto acknowledged_elsewhere = static_cast<long long>(first.size()) - 1;
    EXPECT_EQ(static_cast<long long>(ids.size()),
              st->getValue<long long>("synced_kept") - acknowledged_elsewhere);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicates";
    for (const auto& id : first) EXPECT_EQ(ids.count(id), 0u) << id << " was sent twice";
}

std::string storeName(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

INSTANTIATE_TEST_SUITE_P(Store, AgentServerE2E, ::testing::Values("sqlite", "postgresql"),
                         storeName);
INSTANTIATE_TEST_SUITE_P(Store, AgentSyncFaultsE2E, ::testing::Values("sqlite", "postgresql"),
                         storeName);

}  // namespace
}  // namespace sensorsys::test
