// Fault injection (issue #5 §3, docs/contract.md §7): the real agent reads a deterministic counter
// 10 times a second for over a minute while a fixed schedule SIGKILLs and restarts the server,
// restarts PostgreSQL, has a proxy between agent and server reset connections after the server
// committed, hold answers past the agent's timeout and refuse connections, and kill -9s the
// agent. After the backlog drained, the server holds exactly the reading_ids the agent
// committed to its store: none lost, none twice, none from nowhere.
#include <signal.h>

#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/String.h>

#include <gtest/gtest.h>

#include "pg_test_cluster.hpp"
#include "tcp_proxy.hpp"
#include "test_support.hpp"

namespace sensorsys::test::chaos {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;
using Clock = std::chrono::steady_clock;

constexpr const char* kDevice = "chaos-pi";
// The agent gives up on an answer after kSyncTimeout; the proxy's Delay mode holds answers
// longer than that. A short backoff cap keeps retries (and the final drain) quick.
constexpr const char* kSyncTimeoutSeconds = "1";
constexpr auto kProxyDelay = 2500ms;
constexpr const char* kBackoffMaxSeconds = "1";
// Readings are taken from the first agent start until this offset (at 10 Hz).
constexpr auto kReadingTime = 65s;
// Bounded waits: generous, since the test must pass on a loaded 2-core machine (and in ASan).
constexpr auto kServerStartLimit = 30s;
constexpr auto kDrainLimit = 90s;
// For the drain: ticks fall on day boundaries, so no reading is taken while the backlog drains.
constexpr const char* kNoTicks = "86400";

// Prints each event with its offset from the start of the readings, and keeps them for the
// summary (the first thing to look at when the test fails).
class EventLog {
  public:
    void start() { _start = Clock::now(); }
    Clock::time_point at(std::chrono::milliseconds offset) const { return _start + offset; }
    void note(const std::string& text) {
        std::ostringstream line;
        line << "[+" << std::fixed << std::setprecision(3)
             << std::chrono::duration<double>(Clock::now() - _start).count() << " s] " << text;
        _lines.push_back(line.str());
        std::cout << "chaos: " << line.str() << std::endl;
    }
    std::string all() const {
        std::string text;
        for (const auto& line : _lines) text += "  " + line + "\n";
        return text;
    }

  private:
    Clock::time_point _start = Clock::now();
    std::vector<std::string> _lines;
};

// What the agent's SQLite buffer holds at the end.
struct AgentStore {
    std::set<std::string> reading_ids;  // every reading ever committed (synced or not)
    std::int64_t unsynced = 0;
    std::int64_t quarantined = 0;
    std::int64_t deleted_by_retention = 0;
    // Per agent run (the counter's label): readings with a counter value and the highest value.
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> runs;
    std::int64_t error_readings = 0;  // the counter contributed an error instead of a value
};

AgentStore readAgentStore(const fs::path& path) {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s("SQLite", path.string());
    std::vector<std::string> ids;
    std::vector<std::string> labels;
    std::vector<Poco::Int64> seqs;
    std::vector<Poco::Int64> synced;
    std::vector<Poco::Int64> quarantined;
    s << "SELECT reading_id, coalesce(json_extract(payload, '$.counter.label'), ''),"
         " coalesce(json_extract(payload, '$.counter.seq'), -1), is_synced, quarantined"
         " FROM readings",
        into(ids), into(labels), into(seqs), into(synced), into(quarantined), now;
    AgentStore store;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        store.reading_ids.insert(Poco::toLower(ids[i]));
        if (quarantined[i] != 0) {
            ++store.quarantined;
        } else if (synced[i] == 0) {
            ++store.unsynced;
        }
        if (seqs[i] < 0) {
            ++store.error_readings;
            continue;
        }
        auto& [count, highest] = store.runs[labels[i]];
        ++count;
        highest = std::max<std::int64_t>(highest, seqs[i]);
    }
    s << "SELECT coalesce(sum(value), 0) FROM store_counters WHERE name LIKE 'deleted_%'",
        into(store.deleted_by_retention), now;
    return store;
}

std::int64_t agentBacklog(const fs::path& path) {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s("SQLite", path.string());
    Poco::Int64 backlog = -1;
    s << "SELECT count(*) FROM readings WHERE is_synced = 0 AND quarantined = 0", into(backlog),
        now;
    return backlog;
}

// Every reading_id the server's table holds, repeats included.
std::vector<std::string> serverReadingIds(const std::string& connection) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session s("PostgreSQL", connection);
    std::vector<std::string> ids;
    s << "SELECT reading_id::text FROM sensor_project.readings", into(ids), now;
    for (auto& id : ids) id = Poco::toLower(id);
    return ids;
}

class Chaos : public ::testing::Test {
  protected:
    void SetUp() override {
        copyFiles(SENSORSYS_COUNTER_PLUGIN_DIR, plugins.path());
        const auto migrate = run({SENSORSYS_SERVER_BINARY, "--migrate", dbDefine()});
        ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
        const auto token =
            run({SENSORSYS_SERVER_BINARY, "token", "create", "--device", kDevice, dbDefine()});
        ASSERT_EQ(token.exit_code, 0) << token.err;
        deviceToken = token.out.substr(0, token.out.find('\n'));
    }

    std::string dbDefine() const { return "--define=database.connection=" + connection; }
    fs::path storePath() const { return work / "buffer.db"; }

    void startServer() {
        ++serverStarts;
        server = std::make_unique<Background>(
            std::vector<std::string>{SENSORSYS_SERVER_BINARY, dbDefine(),
                                     "--define=http.port=" + std::to_string(serverPort),
                                     "--define=auth.enabled=true"},
            work / ("server-" + std::to_string(serverStarts)));
        if (!eventually([&] { return healthy(serverPort) || !server->running(); },
                        kServerStartLimit) ||
            !healthy(serverPort)) {
            throw std::runtime_error(
                "server start " + std::to_string(serverStarts) + " not healthy within " +
                std::to_string(kServerStartLimit.count()) + " s; its log:\n" + server->err());
        }
    }

    // SIGKILL; the exit status proves the process was still alive (no crash before it).
    static void kill9(Background& process, const std::string& what) {
        const int code = process.stop(SIGKILL, 10s);
        if (code != 128 + SIGKILL) {
            throw std::runtime_error(what + " was not running when killed (exit status " +
                                     std::to_string(code) + "); its log:\n" + process.err());
        }
    }

    void startAgent(const std::string& interval) {
        ++agentStarts;
        const std::string label = "run" + std::to_string(agentStarts);
        agentLogs.push_back(work / ("agent-" + std::to_string(agentStarts)));
        std::vector<std::string> argv{SENSORSYS_AGENT_BINARY, "--config",
                                      (work / "none.properties").string()};
        for (const std::string& define : {
                 "plugins.dir=" + plugins.path().string(),
                 "agent.device_id=" + std::string(kDevice),
                 "agent.interval=" + interval,
                 "store.path=" + storePath().string(),
                 "agent.status_file=" + (work / "status.json").string(),
                 "sync.url=http://127.0.0.1:" + std::to_string(proxy.port()),
                 "sync.token=" + deviceToken,
                 std::string("sync.timeout=") + kSyncTimeoutSeconds,
                 std::string("sync.backoff_max=") + kBackoffMaxSeconds,
                 // Retention never deletes here: usage cannot exceed 100 %, and it checks daily.
                 std::string("retention.disk_threshold=100"),
                 std::string("retention.check_interval=86400"),
                 "sensor.counter.label=" + label,
             }) {
            argv.push_back("--define");
            argv.push_back(define);
        }
        agent = std::make_unique<Background>(argv, agentLogs.back());
    }

    TempDir work;
    TempDir plugins;
    PrivateCluster cluster{(work / "cluster.info").string()};
    std::string connection = clusterConnection(cluster.infoFile());
    int serverPort = freePort();
    TcpProxy proxy{serverPort, kProxyDelay};
    std::string deviceToken;
    std::unique_ptr<Background> server;
    std::unique_ptr<Background> agent;
    std::vector<fs::path> agentLogs;
    int serverStarts = 0;
    int agentStarts = 0;
    EventLog log;
};

TEST_F(Chaos, ServerKillsPostgresRestartsResetsDelaysRefusalsAndAgentKillsLoseNothing) {
    writeFile(work / "none.properties", "");
    startServer();
    log.start();
    startAgent("0.1");
    log.note("agent started (run1), 10 Hz, through the proxy on port " +
             std::to_string(proxy.port()) + " to the server on " + std::to_string(serverPort));

    auto setMode = [&](ProxyMode mode) {
        return [this, mode] {
            proxy.setMode(mode);
            log.note("proxy: " + toString(mode));
        };
    };
    auto killServer = [&] {
        kill9(*server, "server");
        log.note("server: killed (SIGKILL)");
    };
    auto restartServer = [&] {
        startServer();
        log.note("server: started again and healthy");
    };
    auto killAgent = [&] {
        kill9(*agent, "agent");
        startAgent("0.1");
        log.note("agent: killed (kill -9) and started again (run" + std::to_string(agentStarts) +
                 ")");
    };
    auto stopPostgres = [&] {
        cluster.pause();
        log.note("PostgreSQL: stopped");
    };
    auto startPostgres = [&] {
        cluster.resume();
        log.note("PostgreSQL: started again");
    };

    // Fixed order and offsets (from the first agent start); a step that runs late (a slow
    // server start) delays the ones after it, never reorders them.
    struct Step {
        std::chrono::milliseconds at;
        std::function<void()> action;
    };
    const std::vector<Step> schedule{
        {2000ms, setMode(ProxyMode::ResetAfterForward)},
        {6000ms, setMode(ProxyMode::Pass)},
        {7000ms, killServer},
        {8000ms, restartServer},
        {10000ms, killAgent},
        {12000ms, stopPostgres},
        {14500ms, startPostgres},
        {16000ms, setMode(ProxyMode::Delay)},
        {20000ms, setMode(ProxyMode::Pass)},
        {21000ms, killServer},
        {22000ms, restartServer},
        {24000ms, setMode(ProxyMode::Refuse)},
        {27000ms, setMode(ProxyMode::Pass)},
        {28000ms, killServer},
        {29000ms, restartServer},
        {31000ms, setMode(ProxyMode::ResetAfterForward)},
        {35000ms, setMode(ProxyMode::Pass)},
        {36000ms, killAgent},
        {38000ms, killServer},
        {39000ms, restartServer},
        {41000ms, stopPostgres},
        {43500ms, startPostgres},
        {45000ms, setMode(ProxyMode::Delay)},
        {49000ms, setMode(ProxyMode::Pass)},
        {50000ms, killServer},
        {51000ms, restartServer},
        {53000ms, setMode(ProxyMode::Refuse)},
        {56000ms, setMode(ProxyMode::Pass)},
        {57000ms, setMode(ProxyMode::ResetAfterForward)},
        // The readings end with the server out of reach, so the drain has a backlog to send.
        {61000ms, setMode(ProxyMode::Refuse)},
    };
    for (const auto& step : schedule) {
        std::this_thread::sleep_until(log.at(step.at));
        step.action();
    }
    std::this_thread::sleep_until(log.at(kReadingTime));
    std::chrono::milliseconds took{};
    const int lastExit = agent->stop(SIGTERM, 10s, &took);
    log.note("agent: SIGTERM, exit " + std::to_string(lastExit) + " after " +
             std::to_string(took.count()) + " ms; readings end");
    ASSERT_EQ(lastExit, 0) << "the agent did not stop cleanly on SIGTERM:\n" << agent->err();

    // The drain: no new readings, the proxy passes, server and PostgreSQL are up.
    setMode(ProxyMode::Pass)();
    std::int64_t backlogAtEnd = -1;
    try {
        backlogAtEnd = agentBacklog(storePath());
    } catch (const std::exception& e) {
        log.note(std::string("backlog not readable: ") + e.what());
    }
    startAgent(kNoTicks);
    // Up (signals handled, sync thread running) before anything is asked of it.
    ASSERT_TRUE(
        eventually([&] { return agent->err().find("syncing to") != std::string::npos; }, 30s))
        << "the draining agent did not start:\n"
        << agent->err();
    log.note("agent: started to drain the backlog (no ticks)");
    const bool drained = eventually(
        [&] {
            try {
                return agentBacklog(storePath()) == 0;
            } catch (const std::exception&) {
                return false;  // the agent holds the file for a moment: ask again
            }
        },
        kDrainLimit);
    log.note(std::string(drained ? "backlog drained" : "backlog NOT drained") + " (" +
             std::to_string(backlogAtEnd) + " readings when the readings ended)");
    ASSERT_TRUE(drained) << "the backlog did not drain within " << kDrainLimit.count()
                         << " s; the agent's log:\n"
                         << agent->err() << "\nfault schedule:\n"
                         << log.all();
    ASSERT_EQ(agent->stop(SIGTERM, 10s), 0) << agent->err();
    ASSERT_EQ(server->stop(SIGTERM, 15s), 0) << server->err();
    log.note("agent and server stopped");

    const AgentStore store = readAgentStore(storePath());
    const std::vector<std::string> serverRows = serverReadingIds(connection);
    const std::set<std::string> onServer(serverRows.begin(), serverRows.end());
    std::int64_t lost = 0;
    for (const auto& id : store.reading_ids) lost += onServer.count(id) == 0 ? 1 : 0;
    std::int64_t unknown = 0;
    for (const auto& id : onServer) unknown += store.reading_ids.count(id) == 0 ? 1 : 0;
    const auto produced = static_cast<std::int64_t>(store.reading_ids.size());
    const auto stored = produced - lost;
    const auto duplicated = static_cast<std::int64_t>(serverRows.size() - onServer.size());
    std::int64_t holes = 0;
    std::ostringstream runs;
    for (const auto& [label, run] : store.runs) {
        holes += run.second - run.first;
        runs << " " << label << "=" << run.first << "/" << run.second;
    }
    const ProxyCounters proxied = proxy.counters();
    // Ticks the agents skipped because the machine was too busy to read in time (not a loss:
    // no reading was taken for them).
    std::int64_t skipped = 0;
    const std::regex skippedLine("skipped ([0-9]+) tick");
    for (const auto& path : agentLogs) {
        const std::string err = readFile(path.string() + ".err");
        for (std::sregex_iterator it(err.begin(), err.end(), skippedLine), end; it != end; ++it) {
            skipped += std::stoll((*it)[1].str());
        }
    }

    std::ostringstream summary;
    summary << "fault schedule:\n"
            << log.all() << "proxy: " << proxied.connections << " connections, "
            << proxied.answers_forwarded << " answers forwarded, " << proxied.resets_after_forward
            << " reset after forward, " << proxied.delayed_answers << " delayed, "
            << proxied.refused << " refused, " << proxied.upstream_failures
            << " server unreachable\n"
            << "agent runs (readings/highest counter):" << runs.str() << "; "
            << store.error_readings << " error readings, " << skipped << " ticks skipped\n"
            << "produced " << produced << " / stored " << stored << " / lost " << lost
            << " / duplicated " << duplicated << " (server rows " << serverRows.size()
            << ", unknown to the agent " << unknown << ", quarantined " << store.quarantined
            << ", unsynced " << store.unsynced << ", deleted by retention "
            << store.deleted_by_retention << ")\n";
    std::cout << "chaos: " << summary.str() << std::flush;

    EXPECT_EQ(lost, 0) << summary.str();
    EXPECT_EQ(duplicated, 0) << summary.str();
    EXPECT_EQ(unknown, 0) << summary.str();
    // Nothing is left out of the comparison by other means.
    EXPECT_EQ(store.quarantined, 0) << summary.str();
    EXPECT_EQ(store.unsynced, 0) << summary.str();
    EXPECT_EQ(store.deleted_by_retention, 0) << summary.str();
    // Every reading a run took was committed: a hole in a run's counter is a reading lost
    // before the store, unless a read timed out (its reading holds an error; the counter still
    // counted it).
    EXPECT_LE(holes, store.error_readings) << summary.str();
    for (const auto& path : agentLogs) {
        const std::string err = readFile(path.string() + ".err");
        EXPECT_EQ(err.find("dropping the oldest waiting reading"), std::string::npos) << path;
        EXPECT_EQ(err.find("they are lost"), std::string::npos) << path;
    }
    // The run proves something only if it took readings (about 650 on an idle machine, fewer
    // when a loaded one makes the agent skip ticks) and every fault hit requests.
    EXPECT_GT(produced, 100) << summary.str();
    EXPECT_GT(proxied.resets_after_forward, 0) << summary.str();
    EXPECT_GT(proxied.delayed_answers, 0) << summary.str();
    EXPECT_GT(proxied.refused, 0) << summary.str();
}

}  // namespace
}  // namespace sensorsys::test::chaos
