// parseRequest without a socket: the malformed-request table, and what valid requests yield.
#include "api_request.hpp"
#include "malformed_cases.hpp"

#include <sensorsys/common/json_text.hpp>

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

const RequestLimits kLimits{};

ApiRequest parse(const std::string& method, const std::string& target, const std::string& body = "",
                 Headers headers = {{"Content-Type", "application/json"}}) {
    return parseRequest(method, target, headers, body, kLimits);
}

TEST(ApiRequest, EveryMalformedRequestOfTheTableGetsItsStatusAndNamesTheProblem) {
    const auto cases = testing::malformedCases();
    ASSERT_GE(cases.size(), 30u);
    for (const auto& c : cases) {
        if (c.needsDatabase) continue;
        SCOPED_TRACE(c.name);
        Headers headers(c.headers.begin(), c.headers.end());
        const ApiRequest r = parseRequest(c.method, c.target, headers, c.body, kLimits);
        ASSERT_TRUE(r.error.has_value());
        EXPECT_EQ(r.error->status, c.status);
        EXPECT_NE(r.error->body().find(c.mentions), std::string::npos) << r.error->body();
    }
}

TEST(ApiRequest, MethodNotAllowedCarriesAllow) {
    const auto r = parse("DELETE", "/readings/latest");
    ASSERT_TRUE(r.error);
    ASSERT_EQ(r.error->headers.size(), 1u);
    EXPECT_EQ(r.error->headers[0].first, "Allow");
    EXPECT_EQ(r.error->headers[0].second, "GET, HEAD");
}

TEST(ApiRequest, ValidReadingKeepsOffsetAndCanonicalisesUuid) {
    const auto r =
        parse("POST", "/readings",
              R"({"device_id": "pi-kitchen", "reading_id": "0190F1C2-0000-7000-8000-00000000000A",
                             "ts_utc": "2026-11-27T05:00:00.123456Z", "ts_local": "2026-11-27T06:00:00.123456+01:00",
                             "payload": {"cpu_temp": {"c": 48.3}}})");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.route, Route::ReadingsCreate);
    EXPECT_EQ(r.reading.deviceId, "pi-kitchen");
    EXPECT_EQ(*r.reading.readingId, "0190f1c2-0000-7000-8000-00000000000a");
    EXPECT_EQ(r.reading.tsLocal.offsetSeconds, 3600);
    EXPECT_EQ(r.reading.tsLocal.epochMicros, r.reading.tsUtc.epochMicros);
    EXPECT_EQ(r.reading.payloadJson, R"({"cpu_temp": {"c": 48.3}})");
}

TEST(ApiRequest, ReadingWithoutReadingIdIsAcceptedForOldClients) {
    const auto r = parse(
        "POST", "/readings",
        R"({"device_id": "d", "ts_utc": "2026-11-27T05:00:00", "ts_local": "2026-11-27T05:00:00",
                             "payload": {}})");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_FALSE(r.reading.readingId);
    EXPECT_EQ(r.reading.tsLocal.offsetSeconds, 0);
}

TEST(ApiRequest, BulkListsInvalidItemsByIndexAndKeepsTheValidOnes) {
    const auto r = parse("POST", "/readings/bulk",
                         R"({"readings": [
                             {"device_id": "d", "ts_utc": "2026-11-27T05:00:00Z", "ts_local": "2026-11-27T05:00:00Z", "payload": {}},
                             {"device_id": "d", "ts_utc": "never", "ts_local": "2026-11-27T05:00:00Z", "payload": {}},
                             7,
                             {"device_id": "d", "ts_utc": "2026-11-27T05:01:00Z", "ts_local": "2026-11-27T05:01:00Z", "payload": {}}]})");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.bulkCount, 4u);
    ASSERT_EQ(r.readings.size(), 2u);
    EXPECT_EQ(r.readingIndex, (std::vector<std::size_t>{0, 3}));
    ASSERT_EQ(r.rejected.size(), 2u);
    EXPECT_EQ(r.rejected[0].index, 1u);
    EXPECT_EQ(r.rejected[0].field, "ts_utc");
    EXPECT_EQ(r.rejected[1].index, 2u);
}

TEST(ApiRequest, GzipBodyIsInflated) {
    const auto body = testing::gzipText(R"({"readings": []})");
    const auto r =
        parse("POST", "/readings/bulk", body,
              {{"Content-Type", "application/json; charset=utf-8"}, {"Content-Encoding", "gzip"}});
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.bulkCount, 0u);
}

TEST(ApiRequest, MissingContentTypeIsTakenAsJson) {
    const auto r = parse("POST", "/readings/bulk", R"({"readings": []})", {});
    EXPECT_FALSE(r.error);
}

TEST(ApiRequest, RangeQueryWithLimitCursorAndDevice) {
    const auto r =
        parse("GET",
              "/readings?start_date=2026-11-27T00%3A00%3A00%2B01%3A00&end_date=2026-11-28T00:00:00Z"
              "&limit=50&device_id=pi%20one&after=1764201600000000.42");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.route, Route::ReadingsQuery);
    EXPECT_EQ(*r.range.limit, 50);
    EXPECT_EQ(*r.range.deviceId, "pi one");
    EXPECT_EQ(r.range.after->id, 42);
    EXPECT_EQ(r.range.start.offsetSeconds, 3600);
}

TEST(ApiRequest, HeadIsAGetWithoutBody) {
    const auto r = parse("HEAD", "/health");
    EXPECT_FALSE(r.error);
    EXPECT_TRUE(r.head);
    EXPECT_EQ(r.route, Route::Health);
}

TEST(ApiRequest, BearerTokenIsExtractedAndOtherSchemesAreFlagged) {
    auto r = parse("GET", "/auth/check", "", {{"authorization", "Bearer sst_1_abc"}});
    EXPECT_EQ(r.bearer.value_or(""), "sst_1_abc");
    r = parse("GET", "/auth/check", "", {{"Authorization", "Basic dXNlcjpwdw=="}});
    EXPECT_TRUE(r.authorizationMalformed);
}

// Found by fuzz/server_request_fuzzer.cpp: raw bytes of a request target were copied into the
// error body, which was then not UTF-8 (and so not JSON).
TEST(ApiRequest, ErrorBodiesStayUtf8WhenTheRequestHoldsOtherBytes) {
    auto r = parse("GET", "\x92/readings");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status, 400);
    EXPECT_TRUE(isValidUtf8(r.error->body())) << r.error->body();
    EXPECT_NE(r.error->body().find("\\ufffd/readings"), std::string::npos) << r.error->body();
    r = parse("GET", "/caf%C3%A9%FF");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status, 404);
    EXPECT_NE(r.error->body().find("/caf\xC3\xA9\\ufffd"), std::string::npos) << r.error->body();
    r = parse(
        "POST", "/readings",
        R"({"device_id": "d", "ts_utc": "2026-11-27T05:00:00Z", "ts_local": "2026-11-27T05:00:00Z",
                  "payload": {}, "reading_id": ")" +
            std::string(63, 'a') + "\xC3\xA9\"}");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status, 422);
    EXPECT_TRUE(isValidUtf8(r.error->body())) << r.error->body();
}

TEST(ApiRequest, UuidAndCursorHelpers) {
    EXPECT_FALSE(canonicalUuid("0190f1c2-0000-7000-8000-00000000000"));
    EXPECT_FALSE(canonicalUuid("0190f1c2x0000-7000-8000-00000000000a"));
    EXPECT_TRUE(canonicalUuid("0190f1c2-0000-7000-8000-00000000000a"));
    const Cursor c{-5, 9};
    EXPECT_EQ(parseCursor(formatCursor(c))->tsLocalMicros, -5);
    EXPECT_FALSE(parseCursor("1.-1"));
    EXPECT_EQ(encodeQueryValue("a+b:c"), "a%2Bb%3Ac");
}

}  // namespace
}  // namespace sensorsys::server
