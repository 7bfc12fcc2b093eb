// What every store must do, run against SQLite (store_sqlite_test) and PostgreSQL
// (store_pg_test): the calls the scheduler, the sync thread and retention rely on.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <stdexcept>

#include "store_test_support.hpp"

namespace sensorsys::test {
namespace {

using agent::StoredReading;

Poco::JSON::Object::Ptr parse(const std::string& json) {
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

class StoreContract : public ::testing::Test {
  protected:
    void addRange(int from, int to) {
        for (int i = from; i < to; ++i) store->add(reading(i));
    }
    std::vector<std::int64_t> ids(const std::vector<StoredReading>& rows) {
        std::vector<std::int64_t> out;
        for (const auto& r : rows) out.push_back(r.id);
        return out;
    }

    std::unique_ptr<Backend> backend = makeBackend();
    std::unique_ptr<agent::ReadingStore> store = backend->open();
};

TEST_F(StoreContract, RoundTripKeepsEveryFieldAndTheLocalOffset) {
    store->add(reading(1, R"({"bme280":{"temperature":{"c":21.53}},"disk":{"free_mb":21000}})"));
    const auto rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].readingId, readingId(1));
    const auto json = parse(rows[0].json);
    EXPECT_EQ(json->getValue<std::string>("device_id"), "pi-test");
    EXPECT_EQ(json->getValue<std::string>("reading_id"), readingId(1));
    EXPECT_EQ(json->getValue<std::string>("ts_utc"), tsUtc(1));
    EXPECT_EQ(json->getValue<std::string>("ts_local"), tsLocal(1));  // "+01:00" kept
    const auto payload = json->getObject("payload");
    ASSERT_TRUE(payload);
    EXPECT_DOUBLE_EQ(payload->getObject("bme280")->getObject("temperature")->getValue<double>("c"),
                     21.53);
    EXPECT_EQ(payload->getObject("disk")->getValue<int>("free_mb"), 21000);
}

TEST_F(StoreContract, ReadingJsonEscapesItsStringsAndKeepsThePayloadsText) {
    // The batch item is put together from the stored columns: a device_id with quotes, a
    // backslash, a control character and non-ASCII text must come back as the same string,
    // and the payload's own escapes and number digits as they were sent.
    const std::string device = R"(shed \"north\" \\ 2\t\u00e9)";  // JSON text of the string
    agent::StoredReading r;
    r.readingId = readingId(3);
    r.json = R"({"device_id":")" + device + R"(","reading_id":")" + readingId(3) +
             R"(","ts_utc":")" + tsUtc(3) + R"(","ts_local":")" + tsLocal(3) +
             R"(","payload":{"note":"say \"hi\"\n","v":1.50}})";
    store->add(r);
    const auto rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 1u);
    const auto json = parse(rows[0].json);
    EXPECT_EQ(json->getValue<std::string>("device_id"), "shed \"north\" \\ 2\t\xc3\xa9");
    EXPECT_EQ(json->getValue<std::string>("reading_id"), readingId(3));
    EXPECT_EQ(json->getObject("payload")->getValue<std::string>("note"), "say \"hi\"\n");
    EXPECT_DOUBLE_EQ(json->getObject("payload")->getValue<double>("v"), 1.5);
}

TEST_F(StoreContract, MarkSyncedRemovesFromBacklog) {
    addRange(0, 5);
    auto rows = store->oldestUnsynced(3);
    ASSERT_EQ(rows.size(), 3u);
    store->markSynced(ids(rows));
    rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].readingId, readingId(3));
    EXPECT_EQ(rows[1].readingId, readingId(4));
    const auto st = store->stats();
    EXPECT_EQ(st.synced, 3);
    EXPECT_EQ(st.unsynced, 2);
    EXPECT_EQ(st.quarantined, 0);
}

TEST_F(StoreContract, AddIsIdempotentOnReadingId) {
    store->add(reading(7));
    store->add(reading(7));
    EXPECT_EQ(store->stats().unsynced, 1);
    // A reading already synced stays synced when it is added again (no resend).
    store->markSynced(ids(store->oldestUnsynced(10)));
    store->add(reading(7));
    const auto st = store->stats();
    EXPECT_EQ(st.unsynced, 0);
    EXPECT_EQ(st.synced, 1);
}

TEST_F(StoreContract, OldestFirstInBatchesOfTheLimit) {
    addRange(0, 10);
    const auto first = store->oldestUnsynced(4);
    ASSERT_EQ(first.size(), 4u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(first[i].readingId, readingId(i));
    EXPECT_TRUE(std::is_sorted(first.begin(), first.end(),
                               [](const auto& a, const auto& b) { return a.id < b.id; }));
    store->markSynced(ids(first));
    const auto next = store->oldestUnsynced(4);
    ASSERT_EQ(next.size(), 4u);
    EXPECT_EQ(next[0].readingId, readingId(4));
    EXPECT_GT(next[0].id, first[3].id);
}

TEST_F(StoreContract, QuarantinedIsNeverReturnedAgain) {
    addRange(0, 3);
    auto rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 3u);
    store->quarantine({{rows[1].id, "ts_utc: not a timestamp"}});
    rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].readingId, readingId(0));
    EXPECT_EQ(rows[1].readingId, readingId(2));
    store->markSynced(ids(rows));
    EXPECT_TRUE(store->oldestUnsynced(10).empty());
    const auto st = store->stats();
    EXPECT_EQ(st.quarantined, 1);
    EXPECT_EQ(st.synced, 2);
    EXPECT_EQ(st.unsynced, 0);
    // Re-adding a quarantined reading does not bring it back.
    store->add(reading(1));
    EXPECT_TRUE(store->oldestUnsynced(10).empty());
}

TEST_F(StoreContract, StatsReportBacklogOldestAndSize) {
    auto st = store->stats();
    EXPECT_EQ(st.unsynced, 0);
    EXPECT_FALSE(st.oldestUnsyncedTsUtc.has_value());
    addRange(0, 4);
    store->markSynced(ids(store->oldestUnsynced(1)));
    st = store->stats();
    EXPECT_EQ(st.unsynced, 3);
    EXPECT_EQ(st.synced, 1);
    ASSERT_TRUE(st.oldestUnsyncedTsUtc.has_value());
    EXPECT_EQ(*st.oldestUnsyncedTsUtc, tsUtc(1));
    EXPECT_GT(st.sizeBytes, 0);
    EXPECT_EQ(st.deletedSynced, 0);
    EXPECT_EQ(st.deletedUnsynced, 0);
}

TEST_F(StoreContract, SurvivesReopening) {
    addRange(0, 3);
    store->markSynced(ids(store->oldestUnsynced(1)));
    store.reset();
    store = backend->open();
    const auto st = store->stats();
    EXPECT_EQ(st.synced, 1);
    EXPECT_EQ(st.unsynced, 2);
    EXPECT_EQ(store->oldestUnsynced(1).at(0).readingId, readingId(1));
}

TEST_F(StoreContract, MalformedReadingIsRefusedNotUnavailable) {
    StoredReading bad;
    bad.json = "{not json";
    EXPECT_THROW(store->add(bad), std::invalid_argument);
    bad.json = R"({"device_id":"d","ts_utc":"x","ts_local":"y","payload":{}})";
    EXPECT_THROW(store->add(bad), std::invalid_argument);  // no reading_id
    StoredReading mismatch = reading(1);
    mismatch.readingId = readingId(2);
    EXPECT_THROW(store->add(mismatch), std::invalid_argument);
    EXPECT_EQ(store->stats().unsynced, 0);
}

TEST_F(StoreContract, CompactionKeepsEveryReadingAndItsState) {
    addRange(0, 60);
    std::vector<std::int64_t> synced;
    for (const auto& r : store->oldestUnsynced(30)) synced.push_back(r.id);
    store->markSynced(synced);
    store->deleteStratified(10, 0);
    const auto before = store->stats();
    const auto backlog = store->oldestUnsynced(100);
    store->compact();
    const auto after = store->stats();
    EXPECT_EQ(after.synced, before.synced);
    EXPECT_EQ(after.unsynced, before.unsynced);
    EXPECT_EQ(after.deletedSynced, before.deletedSynced);
    EXPECT_LE(after.sizeBytes, before.sizeBytes);
    const auto again = store->oldestUnsynced(100);
    ASSERT_EQ(again.size(), backlog.size());
    for (std::size_t i = 0; i < again.size(); ++i) {
        EXPECT_EQ(again[i].id, backlog[i].id);  // ids survive: the sync thread may hold them
        EXPECT_EQ(again[i].readingId, backlog[i].readingId);
    }
}

TEST_F(StoreContract, StratifiedDeleteTakesSyncedEvenlyAndKeepsTheSpan) {
    addRange(0, 100);
    // Every 5th reading stays unsynced; the other 80 are synced.
    std::vector<std::int64_t> synced;
    for (const auto& r : store->oldestUnsynced(100)) {
        if (std::stoi(r.readingId.substr(24)) % 5 != 0) synced.push_back(r.id);
    }
    store->markSynced(synced);
    const auto result = store->deleteStratified(40, 0);
    EXPECT_EQ(result.deletedSynced, 40);
    EXPECT_EQ(result.deletedUnsynced, 0);
    ASSERT_TRUE(result.keptFromTsUtc && result.keptToTsUtc);
    EXPECT_EQ(*result.keptFromTsUtc, tsUtc(0));
    EXPECT_EQ(*result.keptToTsUtc, tsUtc(99));
    auto st = store->stats();
    EXPECT_EQ(st.synced, 40);
    EXPECT_EQ(st.unsynced, 20);
    EXPECT_EQ(st.deletedSynced, 40);

    // The backlog, when asked: evenly too, and counted apart.
    const auto second = store->deleteStratified(0, 10);
    EXPECT_EQ(second.deletedUnsynced, 10);
    const auto left = store->oldestUnsynced(100);
    ASSERT_EQ(left.size(), 10u);
    // First and last kept, the rest thinned evenly: no gap over two deleted neighbours.
    EXPECT_EQ(left.front().readingId, readingId(0));
    EXPECT_EQ(left.back().readingId, readingId(95));
    for (std::size_t i = 1; i < left.size(); ++i) {
        const int gap =
            std::stoi(left[i].readingId.substr(24)) - std::stoi(left[i - 1].readingId.substr(24));
        EXPECT_LE(gap, 15) << i;
    }
    st = store->stats();
    EXPECT_EQ(st.deletedUnsynced, 10);
    EXPECT_EQ(st.deletedSynced, 40);
}

TEST_F(StoreContract, OldestUnsyncedUsesThePartialIndex) {
    // Many synced rows and a backlog: the plan must walk the backlog's index in order and stop
    // after one batch - no scan of the table (the seed's query read every synced row) and no
    // sort of the whole backlog.
    backend->insertRows(0, 20000, true);
    backend->insertRows(20000, 5000, false);
    const std::string text = joined(backend->oldestUnsyncedPlan());
    EXPECT_NE(text.find("readings_unsynced_idx"), std::string::npos) << text;
    EXPECT_EQ(text.find("Seq Scan"), std::string::npos) << text;
    EXPECT_EQ(text.find("Bitmap"), std::string::npos) << text;
    EXPECT_EQ(text.find("Sort"), std::string::npos) << text;
    EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
    const auto batch = store->oldestUnsynced(360);
    ASSERT_EQ(batch.size(), 360u);
    EXPECT_TRUE(std::is_sorted(batch.begin(), batch.end(),
                               [](const auto& a, const auto& b) { return a.id < b.id; }));
}

TEST_F(StoreContract, HeldReadingsWaitAndLeaveWithTheTimesTheyAreReleasedWith) {
    store->add(reading(1), agent::ReadingClock{5'000'000'000, "boot-a", true});
    store->add(reading(2), agent::ReadingClock{6'000'000'000, "boot-a", false});
    EXPECT_EQ(ids(store->oldestUnsynced(10)).size(), 1u);
    EXPECT_EQ(store->oldestUnsynced(10)[0].readingId, readingId(2));
    EXPECT_EQ(store->stats().held, 1);
    const auto held = store->held(10, 0);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].readingId, readingId(1));
    EXPECT_EQ(held[0].bootId, "boot-a");
    EXPECT_EQ(held[0].boottimeNs, 5'000'000'000);
    EXPECT_EQ(held[0].tsUtc, tsUtc(1));

    store->release({{held[0].id, readingId(101), tsUtc(101), tsLocal(101), "corrected"}});
    EXPECT_TRUE(store->held(10, 0).empty());
    EXPECT_EQ(store->stats().held, 0);
    const auto rows = store->oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].readingId, readingId(101));  // still first: sent in the order taken
    const auto json = parse(rows[0].json);
    EXPECT_EQ(json->getValue<std::string>("reading_id"), readingId(101));
    EXPECT_EQ(json->getValue<std::string>("ts_utc"), tsUtc(101));
    EXPECT_EQ(json->getValue<std::string>("ts_local"), tsLocal(101));
    EXPECT_EQ(json->getValue<std::string>("ts_quality"), "corrected");
    EXPECT_FALSE(parse(rows[1].json)->has("ts_quality"));
}

TEST_F(StoreContract, AReleaseWithoutNewTimesKeepsThemAndMarksTheQuality) {
    store->add(reading(1), agent::ReadingClock{-1, "", true});
    const auto held = store->held(10, 0);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].boottimeNs, -1);
    EXPECT_EQ(held[0].bootId, "");
    store->release({{held[0].id, "", "", "", "unsynced"}});
    const auto json = parse(store->oldestUnsynced(10).at(0).json);
    EXPECT_EQ(json->getValue<std::string>("reading_id"), readingId(1));
    EXPECT_EQ(json->getValue<std::string>("ts_utc"), tsUtc(1));
    EXPECT_EQ(json->getValue<std::string>("ts_local"), tsLocal(1));
    EXPECT_EQ(json->getValue<std::string>("ts_quality"), "unsynced");
}

}  // namespace
}  // namespace sensorsys::test
