// Retention against a real SQLite store, with the filesystem's figures injected: synced first,
// evenly over time, the backlog only when nothing else is left and the store is the problem.
#include <gtest/gtest.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <filesystem>
#include <system_error>

#include "retention.hpp"
#include "store/sqlite_store.hpp"
#include "store_test_support.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;
using Outcome = agent::RetentionReport::Outcome;

constexpr std::uint64_t kMiB = 1024 * 1024;

// A filesystem of `total` bytes on which something else uses `other` bytes; the store's files
// take the rest of "used", measured for real, so deletions show up in the next check.
class FakeUsage final : public agent::FilesystemUsage {
  public:
    FakeUsage(std::uint64_t total, std::int64_t other, fs::path store)
        : _total(total), _other(other), _store(std::move(store)) {}

    agent::DiskUsage usage(const std::string& path) const override {
        ++calls;
        if (fail) throw std::system_error(EIO, std::generic_category(), "statvfs " + path);
        agent::DiskUsage u;
        u.totalBytes = _total;
        u.usedBytes = static_cast<std::uint64_t>(_other + storeBytes());
        return u;
    }
    std::int64_t storeBytes() const {
        std::int64_t bytes = 0;
        for (const auto& f : {_store.string(), _store.string() + "-wal"}) {
            std::error_code ec;
            const auto size = fs::file_size(f, ec);
            if (!ec) bytes += static_cast<std::int64_t>(size);
        }
        return bytes;
    }
    void setOther(std::int64_t other) { _other = other; }

    mutable int calls = 0;
    bool fail = false;

  private:
    std::uint64_t _total;
    std::int64_t _other;
    fs::path _store;
};

class RetentionTest : public ::testing::Test {
  protected:
    // 2000 readings, one a minute; every 4th (i % 4 == 0) still unsynced: 1500 synced, 500 not.
    void SetUp() override {
        store = std::make_unique<agent::SqliteStore>(path.string());
        auto s = session();
        s << "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 1999)"
             " INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload, is_synced)"
             " SELECT printf('00000000-0000-7000-8000-%012d', i), 'pi-test',"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000Z', '2026-11-27', printf('+%d minutes', i)),"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', '2026-11-27', printf('+%d minutes', i)),"
             "  json_object('pad', printf('%.300c', 'x')), i % 4 <> 0 FROM k",
            now;
        s << "PRAGMA wal_checkpoint(TRUNCATE)", now;
    }

    Poco::Data::Session session() {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session s("SQLite", path.string());
        s << "PRAGMA busy_timeout = 5000", now;
        return s;
    }

    // Minute numbers (= i) of the rows left, synced or not, in time order.
    std::vector<int> minutesLeft(bool synced) {
        std::vector<std::string> ids;
        int flag = synced ? 1 : 0;
        session() << "SELECT reading_id FROM readings WHERE is_synced = ? ORDER BY ts_utc",
            use(flag), into(ids), now;
        std::vector<int> out;
        for (const auto& id : ids) out.push_back(std::stoi(id.substr(24)));
        return out;
    }

    static int maxGap(const std::vector<int>& minutes) {
        int gap = 0;
        for (std::size_t i = 1; i < minutes.size(); ++i)
            gap = std::max(gap, minutes[i] - minutes[i - 1]);
        return gap;
    }

    // "other" such that the disk is `overBy` store-sizes above 50 % of 100 MiB.
    std::int64_t otherFor(double overBy, const FakeUsage& probe) const {
        const auto s = probe.storeBytes();
        return static_cast<std::int64_t>(50 * kMiB) - s + static_cast<std::int64_t>(overBy * s);
    }

    TempDir dir;
    fs::path path = dir / "buffer.db";
    std::unique_ptr<agent::SqliteStore> store;
};

TEST_F(RetentionTest, BelowThresholdDeletesNothing) {
    FakeUsage usage(100 * kMiB, 10 * kMiB, path);
    agent::Retention retention({50, 0}, *store, usage);
    const auto report = retention.check();
    EXPECT_EQ(report.outcome, Outcome::BelowThreshold);
    EXPECT_EQ(store->stats().synced, 1500);
}

TEST_F(RetentionTest, SyncedGoFirstEvenlyAndTheBacklogSurvivesWhileSyncedRemain) {
    FakeUsage usage(100 * kMiB, 0, path);
    usage.setOther(otherFor(0.4, usage));  // 40 % of the store must go: ~800 of 1500 synced
    const auto usedBefore = usage.usage(path.string()).usedBytes;
    // min_store_mb 0: only "synced ones remain" protects the backlog here.
    agent::Retention retention({50, 0}, *store, usage);
    const auto report = retention.check();
    ASSERT_EQ(report.outcome, Outcome::Deleted) << report.message;
    EXPECT_GT(report.usedPercent, 50.0);
    EXPECT_GT(report.deletedSynced, 600);
    EXPECT_LT(report.deletedSynced, 1000);
    EXPECT_EQ(report.deletedUnsynced, 0);
    EXPECT_EQ(report.keptFromTsUtc, tsUtc(0));
    EXPECT_EQ(report.keptToTsUtc, tsUtc(1999));

    const auto st = store->stats();
    EXPECT_EQ(st.unsynced, 500);
    EXPECT_EQ(st.synced, 1500 - report.deletedSynced);
    EXPECT_EQ(st.deletedSynced, report.deletedSynced);
    const auto synced = minutesLeft(true);
    ASSERT_FALSE(synced.empty());
    EXPECT_EQ(synced.front(), 1);    // the oldest synced reading
    EXPECT_EQ(synced.back(), 1999);  // and the newest are kept
    EXPECT_LE(maxGap(synced), 8);    // no hole: ~half of them, spread evenly
    EXPECT_EQ(minutesLeft(false).size(), 500u);

    // The space is back on the filesystem, so the next check sees it.
    EXPECT_LT(usage.usage(path.string()).usedBytes, usedBefore);
}

TEST_F(RetentionTest, BacklogKeptWhenTheStoreIsUnderMinStoreMb) {
    // Something else fills the disk (99 %): every synced reading goes, the backlog stays.
    FakeUsage usage(100 * kMiB, 99 * kMiB, path);
    agent::Retention retention({50, 64}, *store, usage);
    auto report = retention.check();
    ASSERT_EQ(report.outcome, Outcome::Deleted) << report.message;
    EXPECT_EQ(report.deletedSynced, 1500);
    EXPECT_EQ(report.deletedUnsynced, 0);
    EXPECT_EQ(store->stats().unsynced, 500);

    report = retention.check();
    EXPECT_EQ(report.outcome, Outcome::NothingDeletable) << report.message;
    EXPECT_EQ(store->stats().unsynced, 500);
    EXPECT_EQ(store->stats().deletedUnsynced, 0);
}

TEST_F(RetentionTest, BacklogThinnedEvenlyOnlyWhenNoSyncedLeftAndStoreOverMinimum) {
    FakeUsage usage(100 * kMiB, 0, path);
    usage.setOther(otherFor(0.9, usage));  // 90 % of 2000 rows: all 1500 synced + ~300 unsynced
    agent::Retention retention({50, 0}, *store, usage);
    const auto report = retention.check();
    ASSERT_EQ(report.outcome, Outcome::Deleted) << report.message;
    EXPECT_EQ(report.deletedSynced, 1500);
    EXPECT_GT(report.deletedUnsynced, 200);
    EXPECT_LT(report.deletedUnsynced, 400);
    const auto unsynced = minutesLeft(false);
    EXPECT_EQ(static_cast<std::int64_t>(unsynced.size()), 500 - report.deletedUnsynced);
    EXPECT_EQ(unsynced.front(), 0);
    EXPECT_EQ(unsynced.back(), 1996);
    EXPECT_LE(maxGap(unsynced), 16);
    EXPECT_EQ(store->stats().deletedUnsynced, report.deletedUnsynced);
}

// A store that is not on this machine (PostgreSQL elsewhere): nothing measured, nothing deleted.
class RemoteStore final : public agent::ReadingStore {
  public:
    void add(const agent::StoredReading&) override {}
    std::vector<agent::StoredReading> oldestUnsynced(std::size_t, std::int64_t) override {
        return {};
    }
    void markSynced(const std::vector<std::int64_t>&) override {}
    void quarantine(const std::vector<std::pair<std::int64_t, std::string>>&) override {}
    agent::StoreStats stats() override { return {}; }
    agent::RetentionResult deleteStratified(std::int64_t, std::int64_t) override {
        ++deletes;
        return {};
    }
    void compact() override {}
    std::string filesystemPath() const override { return {}; }
    int deletes = 0;
};

TEST(Retention, RemoteStoreIsNotMeasured) {
    RemoteStore remote;
    FakeUsage usage(100, 99, "/nonexistent");
    agent::Retention retention({50, 0}, remote, usage);
    EXPECT_EQ(retention.check().outcome, Outcome::NotLocal);
    EXPECT_EQ(usage.calls, 0);
    EXPECT_EQ(remote.deletes, 0);
}

TEST_F(RetentionTest, FailureToMeasureIsReportedNotThrown) {
    FakeUsage usage(100 * kMiB, 99 * kMiB, path);
    usage.fail = true;
    agent::Retention retention({50, 0}, *store, usage);
    const auto report = retention.check();
    EXPECT_EQ(report.outcome, Outcome::Failed);
    EXPECT_NE(report.message.find("statvfs"), std::string::npos) << report.message;
    EXPECT_EQ(store->stats().synced, 1500);
}

TEST(StatvfsUsage, MeasuresARealFilesystem) {
    TempDir dir;
    const auto u = agent::StatvfsUsage().usage(dir.path().string());
    EXPECT_GT(u.totalBytes, 0u);
    EXPECT_LE(u.usedBytes, u.totalBytes);
    EXPECT_THROW(agent::StatvfsUsage().usage((dir / "missing").string()), std::system_error);
}

}  // namespace
}  // namespace sensorsys::test
