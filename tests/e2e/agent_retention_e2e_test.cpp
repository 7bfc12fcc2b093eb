// Retention in the running agent, on a real full filesystem: the buffer sits on a small tmpfs
// (tests/e2e/retention_tmpfs.sh) beside a filler file. Synced readings go first, just enough of
// them, evenly over time; unsynced readings stay while synced ones remain, and stay when the
// disk is full because of something else.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scripted_http_server.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;

struct Row {
    Poco::Int64 id = 0;
    bool synced = false;
};

std::vector<Row> rowsOf(const fs::path& db) {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session("SQLite", db.string());
    std::vector<Poco::Int64> ids;
    std::vector<int> synced;
    session << "SELECT id, is_synced FROM readings ORDER BY id", into(ids), into(synced), now;
    std::vector<Row> rows;
    for (std::size_t i = 0; i < ids.size(); ++i) rows.push_back({ids[i], synced[i] != 0});
    return rows;
}

std::vector<Poco::Int64> idsWhere(const std::vector<Row>& rows, bool synced) {
    std::vector<Poco::Int64> ids;
    for (const auto& row : rows) {
        if (row.synced == synced) ids.push_back(row.id);
    }
    return ids;
}

class AgentRetentionE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            if (entry.path().filename() != "example_c.so") fs::remove(entry.path());
        }
        writeFile(work / "none.properties", "");
    }

    std::vector<std::string> agentArgs(const std::string& interval, const std::string& url) const {
        return {"--config", (work / "none.properties").string(),
                "--define", "plugins.dir=" + plugins.path().string(),
                "--define", "agent.device_id=retention-pi",
                "--define", "agent.interval=" + interval,
                "--define", "agent.status_file=" + (work / "status.json").string(),
                "--define", "sync.url=" + url,
                "--define", "sync.backoff_max=0.5",
                "--define", "sync.timeout=1"};
    }

    // A buffer of the real agent: readings taken every 5 ms, the first few hundred acknowledged
    // by a server, the next ones not (that server started failing).
    std::vector<Row> fillBuffer() {
        ScriptedHttpServer server;
        server.setFallback(reply(200, R"({"inserted": 0})"));
        auto argv = agentArgs("0.005", server.url());
        argv.insert(argv.begin(), SENSORSYS_AGENT_BINARY);
        argv.insert(argv.end(), {"--define", "store.path=" + buffer().string(), "--define",
                                 "retention.check_interval=3600"});
        Background agent(argv, work / "fill");
        EXPECT_TRUE(eventually([&] { return sentReadings(server) >= 400; }, 30s)) << agent.err();
        server.setFallback(reply(500, R"({"error": "down"})"));
        const auto acknowledged = server.seen().size();
        EXPECT_TRUE(eventually([&] { return server.seen().size() >= acknowledged + 2; }, 30s));
        std::this_thread::sleep_for(500ms);
        EXPECT_EQ(agent.stop(SIGTERM, 5s), 0) << agent.err();
        return rowsOf(buffer());
    }

    static std::size_t sentReadings(const ScriptedHttpServer& server) {
        std::size_t n = 0;
        for (const auto& request : server.seen()) {
            for (auto at = request.body.find("reading_id"); at != std::string::npos;
                 at = request.body.find("reading_id", at + 1)) {
                ++n;
            }
        }
        return n;
    }

    // Runs the agent on a tmpfs of `tmpfs_kib` holding the buffer and `filler_kib` of filler,
    // retention checking every 0.5 s at a 50 % threshold; returns the rows left.
    std::vector<Row> runOnSmallDisk(std::int64_t tmpfs_kib, std::int64_t filler_kib) {
        std::vector<std::string> argv{"bash",
                                      SENSORSYS_SOURCE_DIR "/tests/e2e/retention_tmpfs.sh",
                                      SENSORSYS_AGENT_BINARY,
                                      buffer().string(),
                                      (work / "after.db").string(),
                                      std::to_string(tmpfs_kib),
                                      std::to_string(filler_kib),
                                      "3"};
        const auto args = agentArgs("86400", "http://127.0.0.1:9");
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(),
                    {"--define", "retention.check_interval=0.5", "--define",
                     "retention.disk_threshold=50", "--define", "retention.min_store_mb=64"});
        const auto result = run(argv);
        lastLog = result.out + result.err;
        if (result.exit_code == 77) return {};
        EXPECT_EQ(result.exit_code, 0) << lastLog;
        return rowsOf(work / "after.db");
    }

    fs::path buffer() const { return work / "buffer.db"; }

    TempDir plugins;
    TempDir work;
    std::string lastLog;
};

TEST_F(AgentRetentionE2E, SyncedReadingsGoFirstJustEnoughAndEvenlyOverTime) {
    const auto before = fillBuffer();
    const auto synced = idsWhere(before, true);
    const auto unsynced = idsWhere(before, false);
    ASSERT_GE(synced.size(), 100u) << "too few readings to judge the spread";
    ASSERT_GE(unsynced.size(), 1u);

    // The disk: 4x the buffer. The filler puts usage a quarter of the buffer over 50 %, counting
    // what SQLite adds once the agent opens the buffer (its WAL and shared-memory index, both
    // real pages on a tmpfs): about a third of the synced readings have to go.
    const auto store_kib = static_cast<std::int64_t>(fs::file_size(buffer()) / 1024) + 1;
    const std::int64_t disk_kib = std::max<std::int64_t>(4 * store_kib, 1024);
    const std::int64_t sqlite_open_kib = 48;
    const std::int64_t filler_kib = disk_kib / 2 - store_kib - sqlite_open_kib + store_kib / 4;
    const auto after = runOnSmallDisk(disk_kib, filler_kib);
    if (after.empty() && lastLog.find("skipped") != std::string::npos) GTEST_SKIP() << lastLog;

    EXPECT_THAT(lastLog, ::testing::HasSubstr("retention deleted")) << lastLog;
    EXPECT_EQ(idsWhere(after, false), unsynced) << "unsynced readings went while synced remained";
    const auto kept = idsWhere(after, true);
    EXPECT_LT(kept.size(), synced.size()) << lastLog;
    EXPECT_GT(kept.size(), synced.size() / 4) << "more deleted than needed: " << lastLog;
    EXPECT_THAT(lastLog, ::testing::Not(::testing::HasSubstr("the backlog is kept")))
        << "the disk stayed over the threshold: " << lastLog;

    // Evenly over time (ids grow with time): every quarter of the synced range keeps about the
    // overall share.
    const double share = static_cast<double>(kept.size()) / static_cast<double>(synced.size());
    const std::size_t quarter = synced.size() / 4;
    for (std::size_t q = 0; q < 4; ++q) {
        const Poco::Int64 from = synced[q * quarter];
        const Poco::Int64 to = q == 3 ? synced.back() : synced[(q + 1) * quarter - 1];
        const auto in = std::count_if(kept.begin(), kept.end(),
                                      [&](Poco::Int64 id) { return id >= from && id <= to; });
        const auto total = static_cast<double>(q == 3 ? synced.size() - 3 * quarter : quarter);
        EXPECT_NEAR(static_cast<double>(in) / total, share, 0.15)
            << "quarter " << q << " of the time range kept " << in << " of " << total;
    }
}

TEST_F(AgentRetentionE2E, ADiskFullOfSomethingElseCostsSyncedReadingsButNeverTheBacklog) {
    const auto before = fillBuffer();
    const auto unsynced = idsWhere(before, false);
    ASSERT_GE(unsynced.size(), 1u);

    // The filler alone is over the threshold: no deletion can bring the disk under it.
    const auto store_kib = static_cast<std::int64_t>(fs::file_size(buffer()) / 1024) + 1;
    const std::int64_t disk_kib = std::max<std::int64_t>(4 * store_kib, 1024);
    const auto after = runOnSmallDisk(disk_kib, disk_kib * 6 / 10);
    if (after.empty() && lastLog.find("skipped") != std::string::npos) GTEST_SKIP() << lastLog;

    EXPECT_THAT(idsWhere(after, true), ::testing::IsEmpty()) << lastLog;
    EXPECT_EQ(idsWhere(after, false), unsynced) << lastLog;
    EXPECT_THAT(lastLog, ::testing::HasSubstr("the backlog is kept")) << lastLog;
}

}  // namespace
}  // namespace sensorsys::test
