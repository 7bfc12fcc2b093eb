// The sync loop end to end against a real SQLite store and a scripted HTTP server: batches in
// order, confirmation before marking, quarantine, bisection, plain fallback, backoff.
#include "sync/syncer.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scripted_http_server.hpp"
#include "store/sqlite_store.hpp"
#include "test_support.hpp"

namespace sensorsys::agent {
namespace {

using test::reply;
using ::testing::HasSubstr;

std::string readingJson(int n) {
    char id[64];
    std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", n);
    return std::string(R"({"device_id":"pi","reading_id":")") + id +
           R"(","ts_utc":"2026-11-27T05:00:00.000000Z","ts_local":"2026-11-27T06:00:00.000000+01:00","payload":{"n":)" +
           std::to_string(n) + "}}";
}

// Reading ids of the items of a {"readings": [...]} body.
std::vector<std::string> idsIn(const std::string& body) {
    const auto root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    const auto list = root->getArray("readings");
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < list->size(); ++i) {
        ids.push_back(
            list->getObject(static_cast<unsigned>(i))->getValue<std::string>("reading_id"));
    }
    return ids;
}

class SyncerTest : public ::testing::Test {
  protected:
    void addReadings(int count) {
        for (int n = 1; n <= count; ++n) {
            StoredReading r;
            r.json = readingJson(n);
            r.readingId = Poco::JSON::Parser()
                              .parse(r.json)
                              .extract<Poco::JSON::Object::Ptr>()
                              ->getValue<std::string>("reading_id");
            store.add(r);
        }
    }

    test::TempDir dir;
    SqliteStore store{(dir / "buffer.db").string()};
    test::ScriptedHttpServer server;
    BulkClient client{server.url(), "devtoken", std::chrono::seconds(2)};
    // One batch at a time: the scripted answers go to the batches in a known order.
    SyncSettings settings{4, true, std::chrono::milliseconds(100), std::chrono::seconds(2), 1};
    Syncer syncer{store, client, settings, Poco::Logger::get("test.sync")};
    std::atomic<bool> stop{false};
};

TEST_F(SyncerTest, DrainsTheBacklogOldestFirstInBatchesWithoutWaiting) {
    addReadings(10);
    server.setFallback(reply(200, R"({"inserted": 4, "duplicates": 0, "rejected": []})"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3u);  // 4 + 4 + 2
    EXPECT_EQ(idsIn(seen[0].body).front(), "0190f1c2-0000-7000-8000-000000000001");
    EXPECT_EQ(idsIn(seen[2].body).back(), "0190f1c2-0000-7000-8000-000000000010");
    EXPECT_EQ(seen[0].authorization, "Bearer devtoken");
    EXPECT_EQ(store.stats().unsynced, 0);
    EXPECT_EQ(store.stats().synced, 10);
    EXPECT_EQ(syncer.state().synced, 10);
}

TEST_F(SyncerTest, RejectedItemIsQuarantinedAndTheOthersSync) {
    addReadings(3);
    server.answer(reply(
        200,
        R"({"inserted": 2, "duplicates": 0, "rejected": [{"index": 1, "error": "payload: not an object"}]})"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    EXPECT_EQ(server.seen().size(), 1u);
    const auto stats = store.stats();
    EXPECT_EQ(stats.synced, 2);
    EXPECT_EQ(stats.quarantined, 1);
    EXPECT_EQ(stats.unsynced, 0);
    EXPECT_TRUE(store.oldestUnsynced(10).empty());
}

TEST_F(SyncerTest, WholeRequestRefusalIsBisectedDownToTheBadReading) {
    addReadings(4);
    // Batch of 4 refused; halves [1,2] ok, [3,4] refused; [3] ok; [4] refused alone.
    server.answer(reply(422, R"({"error": "invalid reading"})"));
    server.answer(reply(200, "{}"));
    server.answer(reply(422, R"({"error": "invalid reading"})"));
    server.answer(reply(200, "{}"));
    server.answer(reply(422, R"({"error": "invalid reading", "detail": "readings[0].ts_utc"})"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 5u);
    EXPECT_EQ(idsIn(seen[4].body),
              std::vector<std::string>{"0190f1c2-0000-7000-8000-000000000004"});
    EXPECT_EQ(store.stats().synced, 3);
    EXPECT_EQ(store.stats().quarantined, 1);
}

TEST_F(SyncerTest, UnsupportedGzipIsResentPlainAndRemembered) {
    addReadings(6);
    server.answer(reply(415, R"({"error": "unsupported content encoding"})"));
    server.setFallback(reply(200, "{}"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].content_encoding, "gzip");
    EXPECT_EQ(seen[1].content_encoding, "");
    EXPECT_EQ(seen[2].content_encoding, "");
    EXPECT_TRUE(syncer.state().plainBodies);
    EXPECT_EQ(store.stats().unsynced, 0);
}

TEST_F(SyncerTest, ServerErrorBacksOffAndMarksNothing) {
    addReadings(3);
    server.answer(reply(500, "boom"));
    const auto wait = syncer.drain(stop);
    ASSERT_TRUE(wait.has_value());
    EXPECT_LE(*wait, std::chrono::milliseconds(100));  // first window is the base
    EXPECT_EQ(store.stats().unsynced, 3);
    EXPECT_THAT(syncer.state().lastResult, HasSubstr("HTTP 500"));
    server.setFallback(reply(200, "{}"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    EXPECT_EQ(store.stats().synced, 3);
}

TEST_F(SyncerTest, LostAcknowledgementIsResentAndNothingIsMarkedUntilConfirmed) {
    addReadings(2);
    server.answer(reply(200, "{}", "", true));
    ASSERT_TRUE(syncer.drain(stop).has_value());
    EXPECT_EQ(store.stats().unsynced, 2);
    server.setFallback(reply(200, R"({"inserted": 0, "duplicates": 2, "rejected": []})"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(idsIn(seen[0].body), idsIn(seen[1].body));  // same readings, same ids
    EXPECT_EQ(store.stats().synced, 2);
}

TEST_F(SyncerTest, RetryAfterIsHonouredUpToBackoffMax) {
    addReadings(1);
    server.answer(reply(503, R"({"error": "database unavailable"})", "1"));
    EXPECT_EQ(syncer.drain(stop), std::chrono::milliseconds(1000));
    server.answer(reply(429, "{}", "3600"));
    EXPECT_EQ(syncer.drain(stop), std::chrono::milliseconds(2000));  // capped
}

TEST_F(SyncerTest, AuthProblemBacksOffAndQuarantinesNothing) {
    addReadings(2);
    server.setFallback(reply(401, R"({"error": "invalid token"})"));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(syncer.drain(stop).has_value());
    EXPECT_EQ(store.stats().unsynced, 2);
    EXPECT_EQ(store.stats().quarantined, 0);
    EXPECT_THAT(syncer.state().lastResult, HasSubstr("invalid token"));
}

TEST_F(SyncerTest, ThreadDrainsWhenWokenAndStopsPromptly) {
    server.setFallback(reply(200, "{}"));
    SyncThread thread(syncer);
    addReadings(9);
    thread.wake();
    for (int i = 0; i < 200 && store.stats().unsynced > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(store.stats().unsynced, 0);
    EXPECT_TRUE(thread.stop(std::chrono::seconds(5)));
}

// Two batches on the wire at once, on two connections: which batch meets which scripted
// answer depends on arrival order, so these tests check what must hold either way.
class PipelinedSyncerTest : public SyncerTest {
  protected:
    // Reading ids the server saw, in arrival order (with repeats).
    std::vector<std::string> seenIds() const {
        std::vector<std::string> ids;
        for (const auto& request : server.seen()) {
            for (auto& id : idsIn(request.body)) ids.push_back(std::move(id));
        }
        return ids;
    }
    std::vector<std::string> allIds(int count) const {
        std::vector<std::string> ids;
        for (int n = 1; n <= count; ++n) {
            char id[64];
            std::snprintf(id, sizeof id, "0190f1c2-0000-7000-8000-%012d", n);
            ids.emplace_back(id);
        }
        return ids;
    }

    SyncSettings pipelined{4, true, std::chrono::milliseconds(50), std::chrono::seconds(1), 2};
    Syncer syncer{store, client, pipelined, Poco::Logger::get("test.sync")};
};

TEST_F(PipelinedSyncerTest, EveryReadingOnceOverAtMostTwoConnections) {
    addReadings(50);
    server.setFallback(reply(200, "{}"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    auto ids = seenIds();
    EXPECT_EQ(server.seen().size(), 13u);  // 12 x 4 + 2, none twice
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, allIds(50));
    EXPECT_LE(server.totalConnections(), 2);
    EXPECT_EQ(store.stats().synced, 50);
    EXPECT_EQ(syncer.state().synced, 50);
    // Each request holds consecutive readings, oldest first.
    for (const auto& request : server.seen()) {
        const auto batch = idsIn(request.body);
        EXPECT_TRUE(std::is_sorted(batch.begin(), batch.end()));
    }
}

TEST_F(PipelinedSyncerTest, FailureMidPipelineLosesNothingAndRecovers) {
    addReadings(50);
    server.answer(reply(200, "{}"));
    server.answer(reply(500, "boom"));
    server.answer(reply(200, "{}", "", true));  // a lost acknowledgement too
    server.setFallback(reply(200, "{}"));
    // The first drain stops at the first failure in sending order; later ones drain the rest.
    int drains = 0;
    while (syncer.drain(stop).has_value() && ++drains < 5) {
    }
    EXPECT_LT(drains, 5);
    EXPECT_EQ(store.stats().unsynced, 0);
    EXPECT_EQ(store.stats().synced, 50);
    auto ids = seenIds();
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    EXPECT_EQ(ids, allIds(50));
    // Resent: the batch that met the 500, the one whose answer was lost, and at most one
    // batch in flight beside each of them.
    EXPECT_LE(seenIds().size(), 50u + 4 * 4);
}

TEST_F(PipelinedSyncerTest, RejectedItemMidPipelineIsQuarantinedAndTheQueueMovesOn) {
    addReadings(50);
    server.answer(reply(200, "{}"));
    server.answer(reply(
        200,
        R"({"inserted": 3, "duplicates": 0, "rejected": [{"index": 2, "error": "payload: not an object"}]})"));
    server.setFallback(reply(200, "{}"));
    EXPECT_FALSE(syncer.drain(stop).has_value());
    const auto stats = store.stats();
    EXPECT_EQ(stats.quarantined, 1);
    EXPECT_EQ(stats.synced, 49);
    EXPECT_EQ(stats.unsynced, 0);
    EXPECT_EQ(syncer.state().quarantined, 1);
}

}  // namespace
}  // namespace sensorsys::agent
