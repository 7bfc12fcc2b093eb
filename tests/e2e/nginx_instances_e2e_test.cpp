// Several server instances behind the shipped nginx site (etc/nginx/sensorsys.conf with the
// upstream of etc/nginx/sensorsys-instances.conf): three real sensorsys-server processes on one
// PostgreSQL database, a real nginx, and two real agents draining a preloaded backlog through
// it. One instance is SIGKILLed mid-drain; the agents drain through the other two, every reading
// is stored exactly once (ingest is idempotent by reading_id, which is what lets nginx retry a
// POST on the next instance), and nginx answers throughout.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>
#include <Poco/UUIDGenerator.h>

#include <gtest/gtest.h>

#include "nginx_site.hpp"
#include "pg_test_cluster.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;

constexpr int kInstances = 3;
constexpr int kBacklog = 10000;  // readings per agent
// Small batches make the drain long enough (a few hundred requests) to kill an instance in it.
constexpr const char* kBatch = "40";
// Killed once this many readings are stored: well inside the drain.
constexpr std::int64_t kKillAfter = 3000;
constexpr auto kDrainLimit = 60s;

// One agent: its device, token, buffer (preloaded with kBacklog readings) and process.
struct Agent {
    std::string device;
    std::string token;
    TempDir work;
    std::unique_ptr<Background> process;

    fs::path buffer() const { return work / "buffer.db"; }
    std::vector<std::string> defines(const std::string& pluginDir, int nginxPort) const {
        return {"plugins.dir=" + pluginDir,
                "agent.device_id=" + device,
                "agent.interval=86400",  // no ticks: the backlog alone is synced
                "agent.status_file=" + (work / "status.json").string(),
                "store.path=" + buffer().string(),
                "sync.url=http://127.0.0.1:" + std::to_string(nginxPort),
                "sync.token=" + token,
                std::string("sync.batch_size=") + kBatch,
                "sync.backoff_max=1",
                "sync.timeout=2",
                "retention.check_interval=3600"};
    }
};

std::vector<std::string> agentArgv(const std::vector<std::string>& defines,
                                   const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{SENSORSYS_AGENT_BINARY, "--config", "/dev/null"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (const auto& define : defines) {
        argv.push_back("--define");
        argv.push_back(define);
    }
    return argv;
}

// kBacklog readings a second apart, each with a fresh reading_id, in the agent's own buffer
// (created and migrated by `--status`), as if it had been offline for an hour.
void preload(const Agent& agent, const std::vector<std::string>& defines) {
    const auto created = run(agentArgv(defines, {"--status"}));
    ASSERT_EQ(created.exit_code, 0) << created.err;
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s("SQLite", agent.buffer().string());
    const Poco::Timestamp start = Poco::Timestamp() - Poco::Timespan(2 * 3600, 0);
    std::vector<std::string> ids, devices, utc, local, payloads;
    for (int i = 0; i < kBacklog; ++i) {
        const Poco::Timestamp at = start + Poco::Timespan(i, 0);
        ids.push_back(Poco::UUIDGenerator::defaultGenerator().createRandom().toString());
        devices.push_back(agent.device);
        utc.push_back(Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%S.%FZ"));
        local.push_back(Poco::DateTimeFormatter::format(at, "%Y-%m-%dT%H:%M:%S.%F+00:00"));
        payloads.push_back("{\"cpu_temp\": {\"c\": " + std::to_string(40 + i % 20) + "}}");
    }
    s.begin();
    s << "INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload) "
         "VALUES (?, ?, ?, ?, ?)",
        use(ids), use(devices), use(utc), use(local), use(payloads), now;
    s.commit();
}

std::int64_t agentBacklog(const Agent& agent) {
    Poco::Data::Session s("SQLite", agent.buffer().string());
    Poco::Int64 n = -1;
    s << "SELECT count(*) FROM readings WHERE is_synced = 0 AND quarantined = 0", into(n), now;
    return n;
}

std::set<std::string> agentReadingIds(const Agent& agent) {
    Poco::Data::Session s("SQLite", agent.buffer().string());
    std::vector<std::string> ids;
    s << "SELECT reading_id FROM readings", into(ids), now;
    std::set<std::string> out;
    for (const auto& id : ids) out.insert(Poco::toLower(id));
    return out;
}

// What the server's table holds: rows per (reading_id, device_id), counted, nothing else
// assumed of the table (its indexes and constraints may change).
struct ServerRows {
    std::int64_t total = 0;
    std::map<std::string, std::map<std::string, std::int64_t>> byDevice;  // device -> id -> rows
};

ServerRows serverRows(const std::string& connection) {
    Poco::Data::Session s("PostgreSQL", connection);
    std::vector<std::string> ids, devices;
    std::vector<Poco::Int64> counts;
    s << "SELECT lower(reading_id::text), device_id, count(*) FROM sensor_project.readings "
         "GROUP BY 1, 2",
        into(ids), into(devices), into(counts), now;
    ServerRows rows;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        rows.byDevice[devices[i]][ids[i]] += counts[i];
        rows.total += counts[i];
    }
    return rows;
}

std::int64_t storedRows(const std::string& connection) {
    Poco::Data::Session s("PostgreSQL", connection);
    Poco::Int64 n = 0;
    s << "SELECT count(*) FROM sensor_project.readings", into(n), now;
    return n;
}

class NginxInstances : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!NginxSite::available(false)) GTEST_SKIP() << "nginx or python3 not installed";
        Poco::Data::PostgreSQL::Connector::registerConnector();
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            if (entry.path().filename() != "example_c.so") fs::remove(entry.path());
        }
        const auto migrate = run({SENSORSYS_SERVER_BINARY, "--migrate", dbDefine()});
        ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
        for (const char* device : {"scale-a", "scale-b"}) {
            auto agent = std::make_unique<Agent>();
            agent->device = device;
            const auto token =
                run({SENSORSYS_SERVER_BINARY, "token", "create", "--device", device, dbDefine()});
            ASSERT_EQ(token.exit_code, 0) << token.err;
            agent->token = token.out.substr(0, token.out.find('\n'));
            agents.push_back(std::move(agent));
        }
    }

    std::string dbDefine() const { return "--define=database.connection=" + db.connection(); }

    void startServers() {
        for (int i = 0; i < kInstances; ++i) {
            ports.push_back(freePort());
            servers.push_back(startHealthyServer(
                {SENSORSYS_SERVER_BINARY, dbDefine(),
                 "--define=http.port=" + std::to_string(ports.back()), "--define=auth.enabled=true",
                 "--define=logging.requests=false"},
                work / ("server-" + std::to_string(i)), ports.back()));
        }
    }

    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "scale"};
    TempDir plugins;
    TempDir work;
    std::vector<int> ports;
    std::vector<std::unique_ptr<Background>> servers;
    std::vector<std::unique_ptr<Agent>> agents;
};

TEST_F(NginxInstances, AgentsDrainThroughTheOthersWhenAnInstanceIsKilledStoringEachReadingOnce) {
    startServers();
    NginxSite nginx(SENSORSYS_SOURCE_DIR, {ports, true, false});
    for (auto& agent : agents) {
        const auto defines = agent->defines(plugins.path().string(), nginx.port());
        preload(*agent, defines);
        ASSERT_EQ(agentBacklog(*agent), kBacklog);
    }
    for (auto& agent : agents) {
        agent->process = std::make_unique<Background>(
            agentArgv(agent->defines(plugins.path().string(), nginx.port())),
            agent->work / "agent");
    }

    // Every probe through nginx answers, before and after the kill.
    int probes = 0;
    int probeFailures = 0;
    auto probe = [&] {
        ++probes;
        try {
            if (httpGet(nginx.port(), "/health", "", 5s).first != 200) ++probeFailures;
        } catch (const std::exception&) {
            ++probeFailures;
        }
    };
    ASSERT_TRUE(eventually(
        [&] {
            probe();
            return storedRows(db.connection()) >= kKillAfter;
        },
        kDrainLimit))
        << agents[0]->process->err();
    // Each instance has been taking bulks from nginx, the one about to be killed too.
    for (int i = 0; i < kInstances; ++i) {
        const auto metrics = httpGet(ports[i], "/metrics").second;
        EXPECT_NE(metrics.find("route=\"readings_bulk\",status=\"200\"}"), std::string::npos)
            << "instance " << i + 1 << " took no bulk:\n"
            << metrics;
    }
    const std::int64_t storedAtKill = storedRows(db.connection());
    ASSERT_EQ(servers[1]->stop(SIGKILL, 10s), 128 + SIGKILL) << "instance 2 was not running";
    std::cout << "scale: instance 2 (port " << ports[1] << ") SIGKILLed with " << storedAtKill
              << " of " << 2 * kBacklog << " readings stored" << std::endl;
    EXPECT_LT(storedAtKill, 2 * kBacklog) << "the drain ended before the kill";

    const bool drained = eventually(
        [&] {
            probe();
            return agentBacklog(*agents[0]) == 0 && agentBacklog(*agents[1]) == 0;
        },
        kDrainLimit);
    for (auto& agent : agents) agent->process->stop(SIGTERM, 10s);
    EXPECT_TRUE(drained) << "backlogs left: " << agentBacklog(*agents[0]) << ", "
                         << agentBacklog(*agents[1]) << "\n"
                         << agents[0]->process->err();

    const ServerRows rows = serverRows(db.connection());
    std::int64_t produced = 0;
    for (const auto& agent : agents) {
        const auto ids = agentReadingIds(*agent);
        const auto& stored = rows.byDevice.count(agent->device)
                                 ? rows.byDevice.at(agent->device)
                                 : std::map<std::string, std::int64_t>{};
        std::int64_t lost = 0, duplicated = 0, foreign = 0;
        for (const auto& id : ids) {
            const auto it = stored.find(id);
            if (it == stored.end())
                ++lost;
            else if (it->second > 1)
                duplicated += it->second - 1;
        }
        for (const auto& [id, n] : stored) foreign += ids.count(id) ? 0 : n;
        produced += static_cast<std::int64_t>(ids.size());
        std::cout << "scale: " << agent->device << ": produced " << ids.size() << ", stored "
                  << stored.size() << " distinct, lost " << lost << ", duplicated " << duplicated
                  << ", not from the agent " << foreign << std::endl;
        EXPECT_EQ(static_cast<std::int64_t>(ids.size()), kBacklog);
        EXPECT_EQ(lost, 0) << agent->device;
        EXPECT_EQ(duplicated, 0) << agent->device;
        EXPECT_EQ(foreign, 0) << agent->device;
    }
    std::cout << "scale: server rows " << rows.total << " for " << produced
              << " readings produced; nginx answered " << probes - probeFailures << " of " << probes
              << " /health probes" << std::endl;
    EXPECT_EQ(rows.total, produced);
    EXPECT_EQ(probeFailures, 0);
    EXPECT_TRUE(nginx.running()) << nginx.errorLog();
    // Both survivors are still up and took the rest.
    EXPECT_TRUE(healthy(ports[0]));
    EXPECT_TRUE(healthy(ports[2]));
}

}  // namespace
}  // namespace sensorsys::test
