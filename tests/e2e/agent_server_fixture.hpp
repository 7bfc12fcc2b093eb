// The fixture of the agent+server end-to-end tests (agent_sync_e2e_test, clock_e2e_test): a
// real server on a throwaway PostgreSQL database, tokens, and the real agent with its buffer in
// SQLite or PostgreSQL (the test parameter). Not thread-safe; one object per test.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include "pg_test_cluster.hpp"
#include "test_support.hpp"

namespace sensorsys::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A token of `scope` ({"--device", NAME}, {"--read"}, ...) made with `sensorsys-server token
// create` on the database of `dbDefine` (--define=database.connection=...).
inline std::string createToken(const std::string& dbDefine, const std::vector<std::string>& scope) {
    std::vector<std::string> argv{SENSORSYS_SERVER_BINARY, "token", "create"};
    argv.insert(argv.end(), scope.begin(), scope.end());
    argv.push_back(dbDefine);
    const auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
}

// Where a test's agent reads and syncs.
struct AgentSetup {
    fs::path plugins;      // the plugin folder
    fs::path work;         // its none.properties (empty), status file and logs
    std::string device;    // agent.device_id
    std::string interval;  // agent.interval, seconds
    int port;              // the server on 127.0.0.1
    std::string token;     // sync.token
};

// The real agent, syncing as `setup` says; `defines`: more arguments (its store among them),
// `env`: KEY=VALUE added to its environment. Returns once it says where it syncs to: a SIGTERM
// before that (while the process is still loading) would meet the default action, as for any
// program.
inline std::unique_ptr<Background> startSyncingAgent(const AgentSetup& setup,
                                                     const std::vector<std::string>& defines,
                                                     const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv{SENSORSYS_AGENT_BINARY,
                                  "--config",
                                  (setup.work / "none.properties").string(),
                                  "--define",
                                  "plugins.dir=" + setup.plugins.string(),
                                  "--define",
                                  "agent.device_id=" + setup.device,
                                  "--define",
                                  "agent.interval=" + setup.interval,
                                  "--define",
                                  "agent.status_file=" + (setup.work / "status.json").string(),
                                  "--define",
                                  "sync.url=http://127.0.0.1:" + std::to_string(setup.port),
                                  "--define",
                                  "sync.token=" + setup.token,
                                  "--define",
                                  "sync.backoff_max=1",
                                  "--define",
                                  "sync.timeout=2"};
    argv.insert(argv.end(), defines.begin(), defines.end());
    auto agent = std::make_unique<Background>(argv, setup.work / "agent", env);
    EXPECT_TRUE(
        eventually([&] { return agent->err().find("syncing to") != std::string::npos; }, 20s))
        << agent->err();
    return agent;
}

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
        deviceToken = createToken(dbDefine(), {"--device", kDevice});
        readToken = createToken(dbDefine(), {"--read"});
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

    // `extra_env`: KEY=VALUE for the agent's environment; `extra_defines`: more --define values.
    std::unique_ptr<Background> startAgent(const std::string& interval = "0.2",
                                           const std::vector<std::string>& extra_env = {},
                                           const std::vector<std::string>& extra_defines = {}) {
        auto defines = storeDefines();
        defines.push_back("--define");
        defines.push_back("retention.check_interval=3600");
        for (const auto& define : extra_defines) {
            defines.push_back("--define");
            defines.push_back(define);
        }
        return startSyncingAgent(
            {plugins.path(), work.path(), kDevice, interval, port, deviceToken}, defines,
            extra_env);
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

}  // namespace sensorsys::test
