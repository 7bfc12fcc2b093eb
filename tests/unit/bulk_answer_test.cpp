// How the agent reads each answer to POST /readings/bulk (CONTRACT §5 table), and backoff.
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <Poco/InflatingStream.h>
#include <Poco/StreamCopier.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sync/backoff.hpp"
#include "sync/bulk_client.hpp"

namespace sensorsys::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string gunzip(const std::string& bytes) {
    std::istringstream in(bytes);
    Poco::InflatingInputStream inflate(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::string out;
    Poco::StreamCopier::copyToString(inflate, out);
    return out;
}

TEST(BodyBuilder, OneBuilderReusedMakesEveryBodyWhole) {
    // The builder keeps its buffers and zlib state between bodies: a small body after a large
    // one, plain between gzip ones, must each come out complete and on their own.
    auto items = [](int n, char tag) {
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i) {
            out.push_back(R"({"reading_id":")" + std::string(1, tag) + std::to_string(i) +
                          R"(","payload":{"v":)" + std::to_string(i * 7919 % 1000) + "}}");
        }
        return out;
    };
    auto expected = [](const std::vector<std::string>& batch) {
        std::string json = R"({"readings":[)";
        for (std::size_t i = 0; i < batch.size(); ++i) json += (i ? "," : "") + batch[i];
        return json + "]}";
    };
    BodyBuilder builder;
    for (const auto& [n, tag, gzip] : std::vector<std::tuple<int, char, bool>>{{360, 'a', true},
                                                                               {2, 'b', true},
                                                                               {360, 'c', false},
                                                                               {1, 'd', true},
                                                                               {500, 'e', true}}) {
        const auto batch = items(n, tag);
        const BulkBody body = builder.build({batch.begin(), batch.end()}, gzip);
        EXPECT_EQ(body.count, static_cast<std::size_t>(n));
        EXPECT_EQ(body.gzip, gzip);
        EXPECT_EQ(gzip ? gunzip(body.bytes) : body.bytes, expected(batch)) << n << tag;
        if (gzip) {
            EXPECT_LT(body.bytes.size(), expected(batch).size() / 2 + 64) << n << tag;
        }
    }
}

TEST(BulkAnswer, SuccessListsRejectedItemsToQuarantine) {
    const auto a = interpretAnswer(
        200,
        R"({"inserted": 2, "duplicates": 1, "rejected": [{"index": 3, "error": "payload: must be an object"}]})",
        "", true, 4);
    EXPECT_EQ(a.kind, AnswerKind::Accepted);
    EXPECT_THAT(a.rejected, ElementsAre(Pair(3u, "payload: must be an object")));
    EXPECT_EQ(a.message, "HTTP 200 inserted 2, duplicates 1, rejected 1");
}

TEST(BulkAnswer, RejectedIndexOutsideTheBatchIsIgnored) {
    const auto a =
        interpretAnswer(200, R"({"rejected": [{"index": 9, "error": "x"}]})", "", false, 2);
    EXPECT_TRUE(a.rejected.empty());
}

TEST(BulkAnswer, SeedServersPlainSuccessMeansEverythingStored) {
    const auto a = interpretAnswer(200, R"({"inserted": 360})", "", false, 360);
    EXPECT_EQ(a.kind, AnswerKind::Accepted);
    EXPECT_TRUE(a.rejected.empty());
    EXPECT_EQ(interpretAnswer(201, "not json", "", false, 1).kind, AnswerKind::Accepted);
}

TEST(BulkAnswer, WholeRequestRefusalsAreBisected) {
    for (int status : {400, 413, 422}) {
        EXPECT_EQ(
            interpretAnswer(status, R"({"error": "bad", "detail": "readings[0]"})", "", true, 8)
                .kind,
            AnswerKind::RequestRefused)
            << status;
    }
    EXPECT_EQ(
        interpretAnswer(422, R"({"error": "invalid reading", "detail": "readings[0].ts_utc"})", "",
                        true, 8)
            .message,
        "HTTP 422: invalid reading: readings[0].ts_utc");
}

TEST(BulkAnswer, UnsupportedMediaTypeToGzipMeansSendPlain) {
    EXPECT_EQ(interpretAnswer(415, "{}", "", true, 1).kind, AnswerKind::WantsPlain);
    EXPECT_EQ(interpretAnswer(415, "{}", "", false, 1).kind, AnswerKind::ConfigProblem);
}

TEST(BulkAnswer, AuthAndRoutingProblemsAreConfigurationProblems) {
    for (int status : {401, 403, 404, 405, 409, 418}) {
        EXPECT_EQ(interpretAnswer(status, "", "", true, 1).kind, AnswerKind::ConfigProblem)
            << status;
    }
}

TEST(BulkAnswer, OverloadHonoursRetryAfter) {
    const auto a = interpretAnswer(503, "", "7", true, 1);
    EXPECT_EQ(a.kind, AnswerKind::RetryLater);
    EXPECT_EQ(a.retry_after, std::chrono::seconds(7));
    EXPECT_EQ(interpretAnswer(429, "", "", true, 1).kind, AnswerKind::RetryLater);
    EXPECT_FALSE(interpretAnswer(429, "", "Wed, 21 Oct 2026 07:28:00 GMT", true, 1).retry_after);
}

TEST(BulkAnswer, ServerErrorsAreRetriedWithBackoff) {
    for (int status : {500, 502, 504}) {
        EXPECT_EQ(interpretAnswer(status, "<html>oops</html>", "", true, 1).kind,
                  AnswerKind::Failed);
    }
    EXPECT_THAT(interpretAnswer(500, "<html>oops</html>", "", true, 1).message,
                HasSubstr("HTTP 500: <html>oops</html>"));
}

TEST(Backoff, FullJitterWithinADoublingWindowUpToTheCap) {
    Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(8), 42);
    const long long windows[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (long long window : windows) {
        const auto wait = backoff.next().count();
        EXPECT_GE(wait, 0);
        EXPECT_LE(wait, window);
    }
    backoff.reset();
    EXPECT_LE(backoff.next().count(), 1000);
}

TEST(Backoff, IsSpreadNotConstant) {
    Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(300), 7);
    for (int i = 0; i < 10; ++i) backoff.next();
    std::set<long long> seen;
    for (int i = 0; i < 20; ++i) seen.insert(backoff.next().count());
    EXPECT_GT(seen.size(), 15u);
}

}  // namespace
}  // namespace sensorsys::agent
