// The online move of a readings table from before partitioning (V010, docs/scaling.md) while a
// real agent syncs through a real server: `--migrate` moves the old rows in batches of 100
// while the agent drains a backlog and keeps sending, and the agent is SIGKILLed once mid-sync
// (so it sends some readings again). At the end every old row is in a partition, unchanged,
// and every reading the agent holds as synced is stored once.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include "agent_server_fixture.hpp"
#include "migrator.hpp"

namespace sensorsys::test {
namespace {

using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;

constexpr int kLegacyRows = 60000;
constexpr const char* kDevice = "move-pi";

class OnlineMoveE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            if (entry.path().filename() != "example_c.so") fs::remove(entry.path());
        }
        writeFile(work / "none.properties", "");
        // The database as a server from before V010 left it: its table with old rows, some of
        // them the agent's own device.
        std::vector<Migration> before;
        for (const auto& m : server::embeddedMigrations()) {
            if (m.version < 10) before.push_back(m);
        }
        Poco::Data::Session s("PostgreSQL", db.connection());
        server::migrate(s, before);
        s << "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload)"
             " SELECT CASE WHEN i % 3 = 0 THEN '"
          << kDevice << "' ELSE 'old-' || (i % 5) END, t, t, jsonb_build_object('t', i % 40)"
          << " FROM generate_series(1, " << kLegacyRows
          << ") i, LATERAL (SELECT timestamptz '2026-01-01Z' + i * interval '5 minutes' AS t) x",
            now;
        legacyChecksum = checksum(s, "sensor_project.readings");
    }

    static std::string checksum(Poco::Data::Session& s, const std::string& table) {
        std::string sum;
        s << "SELECT md5(string_agg(id || reading_id::text || device_id || ts_utc || ts_local ||"
             " payload::text, ',' ORDER BY id)) FROM " +
                 table + " WHERE id <= " + std::to_string(kLegacyRows),
            into(sum), now;
        return sum;
    }

    template <class T>
    T scalar(const std::string& sql) {
        Poco::Data::Session s("PostgreSQL", db.connection());
        T value{};
        s << sql, into(value), now;
        return value;
    }

    std::string dbDefine() const { return "--define=database.connection=" + db.connection(); }

    std::unique_ptr<Background> startAgent(const std::string& interval) {
        return startSyncingAgent({plugins.path(), work.path(), kDevice, interval, port, token},
                                 {"--define", "store.path=" + (work / "buffer.db").string(),
                                  "--define", "sync.batch_size=50"});
    }

    // A number of the agent's --status (retried: it competes with a running agent for the file).
    long long agentStatus(const std::string& key) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            const auto r = run({SENSORSYS_AGENT_BINARY, "--status", "--json", "--config",
                                (work / "none.properties").string(), "--define",
                                "store.path=" + (work / "buffer.db").string(), "--define",
                                "agent.status_file=" + (work / "status.json").string()});
            if (r.exit_code != 0) continue;
            return Poco::JSON::Parser()
                .parse(r.out)
                .extract<Poco::JSON::Object::Ptr>()
                ->getValue<long long>(key);
        }
        ADD_FAILURE() << "agent --status failed";
        return -1;
    }

    long long moveLeft() {
        return scalar<Poco::Int64>(
            "SELECT COALESCE((SELECT total - moved FROM sensor_project.readings_migration), 0)");
    }

    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "move"};
    TempDir plugins;
    TempDir work;
    int port = freePort();
    std::string token;
    std::string readToken;
    std::string legacyChecksum;
};

TEST_F(OnlineMoveE2E, RowsMoveWhileAnAgentSyncsNoneLostNoneTwice) {
    // The new build's schema (V010's rename, the ledger of the old ids) and the tokens; no row
    // is moved yet.
    token = createToken(dbDefine(), {"--device", kDevice});
    readToken = createToken(dbDefine(), {"--read"});
    ASSERT_EQ(moveLeft(), kLegacyRows);
    // A backlog: the agent reads every 20 ms with no server to sync to yet.
    auto agent = startAgent("0.02");
    std::this_thread::sleep_for(2s);

    // The move, 100 rows per transaction, beside the serving server.
    Background migrate({SENSORSYS_SERVER_BINARY, "--migrate", dbDefine(),
                        "--define=database.migrate_batch_rows=100"},
                       work / "migrate");
    const auto server = startHealthyServer(
        {SENSORSYS_SERVER_BINARY, dbDefine(), "--define=http.port=" + std::to_string(port),
         "--define=auth.enabled=true", "--define=database.migrate_batch_rows=100"},
        work / "server", port);
    // The agent's readings arrive while rows are still being moved; it is killed mid-sync once.
    // (The agent's readings have ids after the old rows'.)
    const auto agentRowsSql = "SELECT count(*) FROM sensor_project.stored_readings WHERE id > " +
                              std::to_string(kLegacyRows);
    ASSERT_TRUE(eventually([&] { return scalar<Poco::Int64>(agentRowsSql) > 0; }, 20s));
    const auto leftWhenFirstArrived = moveLeft();
    EXPECT_GT(leftWhenFirstArrived, 0) << "the move ended before the agent's readings arrived";
    EXPECT_EQ(agent->stop(SIGKILL, 5s), 128 + SIGKILL);
    agent = startAgent("0.02");
    const auto before = scalar<Poco::Int64>(agentRowsSql);
    ASSERT_TRUE(eventually([&] { return scalar<Poco::Int64>(agentRowsSql) > before; }, 20s));
    const auto leftAfterRestart = moveLeft();
    EXPECT_GT(leftAfterRestart, 0) << "the move ended before the restarted agent synced";
    std::cout << "rows left to move when the agent's first readings arrived: "
              << leftWhenFirstArrived << " of " << kLegacyRows
              << "; when the restarted agent's arrived: " << leftAfterRestart << "\n";

    ASSERT_TRUE(eventually([&] { return !migrate.running(); }, 120s)) << migrate.err();
    EXPECT_EQ(migrate.stop(SIGTERM, 1s), 0) << migrate.err();
    EXPECT_NE(migrate.err().find("every row is in a partition"), std::string::npos)
        << migrate.err();
    // The agent stops reading its sensor and drains what is left.
    agent->stop(SIGTERM, 5s);
    agent = startAgent("86400");
    ASSERT_TRUE(eventually([&] { return agentStatus("backlog") == 0; }, 30s));
    agent->stop(SIGTERM, 5s);

    std::cout << "agent readings synced: " << agentStatus("synced_kept") << "\n";
    Poco::Data::Session s("PostgreSQL", db.connection());
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM pg_class WHERE relname = "
                                  "'readings_legacy'"),
              0);
    EXPECT_EQ(checksum(s, "sensor_project.readings"), legacyChecksum);
    EXPECT_EQ(scalar<Poco::Int64>(agentRowsSql), agentStatus("synced_kept"));
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) - count(DISTINCT reading_id) FROM "
                                  "sensor_project.readings"),
              0);
    EXPECT_EQ(scalar<Poco::Int64>("SELECT count(*) FROM sensor_project.readings"),
              kLegacyRows + agentStatus("synced_kept"));
    // The device's newest reading is the agent's last one, as GET /readings/latest says.
    const auto [code, body] =
        httpGet(port, "/readings/latest?device_id=" + std::string(kDevice), readToken);
    EXPECT_EQ(code, 200) << body;
    EXPECT_NE(body.find(scalar<std::string>(
                  std::string("SELECT reading_id::text FROM sensor_project.readings WHERE "
                              "device_id = '") +
                  kDevice + "' ORDER BY ts_local DESC, id DESC LIMIT 1")),
              std::string::npos)
        << body;
}

}  // namespace
}  // namespace sensorsys::test
