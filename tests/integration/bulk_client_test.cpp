// BulkClient against a real HTTP server on 127.0.0.1 that answers from a script: what is sent
// (gzip, token, body shape) and how every kind of answer, or no answer, comes back.
#include "sync/bulk_client.hpp"

#include "scripted_http_server.hpp"

#include <chrono>
#include <future>
#include <thread>

#include <Poco/Net/ServerSocket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using test::reply;

class BulkClientTest : public ::testing::Test {
  protected:
    std::string url() const { return server.url(); }
    void answer(test::ScriptedReply r) { server.answer(std::move(r)); }
    std::vector<test::SeenRequest> seen() const { return server.seen(); }

    test::ScriptedHttpServer server;
};

const std::vector<std::string> kBatch = {R"({"reading_id":"a"})", R"({"reading_id":"b"})"};

TEST_F(BulkClientTest, SendsGzipJsonWithTheTokenToReadingsBulk) {
    BulkClient client(url(), "tok123", std::chrono::seconds(5));
    answer(reply(200, R"({"inserted": 2, "duplicates": 0, "rejected": []})"));
    const auto a = client.post(kBatch, true);
    EXPECT_EQ(a.kind, AnswerKind::Accepted) << a.message;
    ASSERT_EQ(seen().size(), 1u);
    EXPECT_EQ(seen()[0].path, "/readings/bulk");
    EXPECT_EQ(seen()[0].content_encoding, "gzip");
    EXPECT_EQ(seen()[0].authorization, "Bearer tok123");
    EXPECT_EQ(seen()[0].body, R"({"readings":[{"reading_id":"a"},{"reading_id":"b"}]})");
}

TEST_F(BulkClientTest, PlainBodyWithoutTokenAndUnderABasePath) {
    BulkClient client(url() + "/api/", "", std::chrono::seconds(5));
    answer(reply(200, "{}"));
    client.post(kBatch, false);
    ASSERT_EQ(seen().size(), 1u);
    EXPECT_EQ(seen()[0].path, "/api/readings/bulk");
    EXPECT_EQ(seen()[0].content_encoding, "");
    EXPECT_EQ(seen()[0].authorization, "");
}

TEST_F(BulkClientTest, KeepsOneConnectionAcrossBatches) {
    BulkClient client(url(), "", std::chrono::seconds(5));
    for (int i = 0; i < 3; ++i) {
        answer(reply(200, "{}"));
        EXPECT_EQ(client.post(kBatch, false).kind, AnswerKind::Accepted);
    }
    EXPECT_EQ(server.totalConnections(), 1);
}

TEST_F(BulkClientTest, RejectedItemsComeBackByIndex) {
    BulkClient client(url(), "", std::chrono::seconds(5));
    answer(reply(
        200,
        R"({"inserted": 1, "duplicates": 0, "rejected": [{"index": 1, "error": "bad ts_utc"}]})"));
    const auto a = client.post(kBatch, false);
    ASSERT_EQ(a.rejected.size(), 1u);
    EXPECT_EQ(a.rejected[0].first, 1u);
    EXPECT_EQ(a.rejected[0].second, "bad ts_utc");
}

TEST_F(BulkClientTest, ServiceUnavailableCarriesRetryAfter) {
    BulkClient client(url(), "", std::chrono::seconds(5));
    answer(reply(503, R"({"error": "database unavailable"})", "3"));
    const auto a = client.post(kBatch, true);
    EXPECT_EQ(a.kind, AnswerKind::RetryLater);
    EXPECT_EQ(a.retryAfter, std::chrono::seconds(3));
    EXPECT_EQ(a.message, "HTTP 503: database unavailable");
}

TEST_F(BulkClientTest, HangUpAfterTheRequestIsAFailureAndTheNextPostReconnects) {
    BulkClient client(url(), "", std::chrono::seconds(5));
    answer(reply(200, "{}", "", true));
    const auto lost = client.post(kBatch, false);
    EXPECT_EQ(lost.kind, AnswerKind::Failed);
    EXPECT_EQ(lost.status, 0);
    EXPECT_THAT(lost.message, StartsWith("no answer from " + url()));
    answer(reply(200, "{}"));
    EXPECT_EQ(client.post(kBatch, false).kind, AnswerKind::Accepted);
}

TEST_F(BulkClientTest, ConcurrentPostsUseTheirOwnConnectionsAndKeepThem) {
    BulkClient client(url(), "", std::chrono::seconds(5));
    // The first request stalls; the second, sent meanwhile, is answered on a second
    // connection before the first is.
    answer(reply(200, R"({"inserted": 2})", "", false, std::chrono::milliseconds(800)));
    server.setFallback(reply(200, R"({"inserted": 1})"));
    auto slow = std::async(std::launch::async, [&] { return client.post(kBatch, false); });
    for (int i = 0; i < 200 && seen().empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto fast = client.post(kBatch, false);
    EXPECT_EQ(slow.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
    EXPECT_THAT(fast.message, HasSubstr("inserted 1"));
    EXPECT_THAT(slow.get().message, HasSubstr("inserted 2"));
    EXPECT_EQ(server.totalConnections(), 2);
    // Both are kept: two more posts at once open nothing new.
    auto again = std::async(std::launch::async, [&] { return client.post(kBatch, false); });
    EXPECT_EQ(client.post(kBatch, false).kind, AnswerKind::Accepted);
    EXPECT_EQ(again.get().kind, AnswerKind::Accepted);
    EXPECT_EQ(server.totalConnections(), 2);
}

TEST_F(BulkClientTest, StallPastTheTimeoutIsAFailure) {
    BulkClient client(url(), "", std::chrono::milliseconds(300));
    answer(reply(200, "{}", "", false, std::chrono::milliseconds(1500)));
    const auto a = client.post(kBatch, false);
    EXPECT_EQ(a.kind, AnswerKind::Failed);
    EXPECT_THAT(a.message, HasSubstr("no answer from"));
}

TEST(BulkClientNoServer, RefusedConnectionIsAFailureNamingTheServer) {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    const auto port = probe.address().port();
    probe.close();  // nothing listens there now
    BulkClient client("http://127.0.0.1:" + std::to_string(port), "", std::chrono::seconds(2));
    const auto a = client.post(kBatch, false);
    EXPECT_EQ(a.kind, AnswerKind::Failed);
    EXPECT_THAT(a.message, HasSubstr("127.0.0.1:" + std::to_string(port)));
}

}  // namespace
}  // namespace sensorsys::agent
