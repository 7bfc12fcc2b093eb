// How the agent reads each answer to POST /readings/bulk (docs/contract.md §5 table).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sync/bulk_client.hpp"

namespace sensorsys::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

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
    EXPECT_EQ(a.retryAfter, std::chrono::seconds(7));
    EXPECT_EQ(interpretAnswer(429, "", "", true, 1).kind, AnswerKind::RetryLater);
    EXPECT_FALSE(interpretAnswer(429, "", "Wed, 21 Oct 2026 07:28:00 GMT", true, 1).retryAfter);
}

TEST(BulkAnswer, ServerErrorsAreRetriedWithBackoff) {
    for (int status : {500, 502, 504}) {
        EXPECT_EQ(interpretAnswer(status, "<html>oops</html>", "", true, 1).kind,
                  AnswerKind::Failed);
    }
    EXPECT_THAT(interpretAnswer(500, "<html>oops</html>", "", true, 1).message,
                HasSubstr("HTTP 500: <html>oops</html>"));
}

}  // namespace
}  // namespace sensorsys::agent
