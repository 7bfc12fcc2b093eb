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

    // `extra_env`: KEY=VALUE for the agent's environment; `extra_defines`: more --define values.
    std::unique_ptr<Background> startAgent(const std::string& interval = "0.2",
                                           const std::vector<std::string>& extra_env = {},
                                           const std::vector<std::string>& extra_defines = {}) {
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
        for (const auto& define : extra_defines) {
            argv.push_back("--define");
            argv.push_back(define);
        }
        auto agent = std::make_unique<Background>(argv, work / "agent", extra_env);
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

}  // namespace sensorsys::test
