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

#include "agent_server_fixture.hpp"
#include "scripted_http_server.hpp"

namespace sensorsys::test {
namespace {

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
