// Cold-path answers are built as Poco::JSON values but keep the text clients have always
// received: the expected bodies below are what the hand-concatenating code answered.
#include "json_answer.hpp"
#include "api_request.hpp"

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

TEST(JsonAnswer, WritesTheApiStyleInInsertionOrderWithoutEscapingSlashes) {
    const auto value = jsonObject({{"z", "a/b\xff"},
                                   {"a", Poco::Dynamic::Var()},
                                   {"n", std::size_t{3}},
                                   {"ok", true},
                                   {"list", jsonArray({"x", -1})}});
    EXPECT_EQ(jsonText(value),
              R"({"z": "a/b\ufffd", "a": null, "n": 3, "ok": true, "list": ["x", -1]})");
}

struct Case {
    const char* method;
    const char* target;
    std::string body;
    Headers headers;
    const char* expected;
};

TEST(JsonAnswer, ErrorBodiesKeepTheirTextByteForByte) {
    const RequestLimits limits{1024 * 1024, 2, 100};
    const Headers json{{"Content-Type", "application/json"}};
    const Case cases[] = {
        {"DELETE",
         "/readings",
         "",
         {},
         R"({"error": "method not allowed", "detail": {"method": "DELETE", "allowed": "GET, HEAD, POST"}})"},
        {"GET", "/nope", "", {}, R"({"error": "not found", "detail": {"path": "/nope"}})"},
        {"POST", "/readings", "{}", json,
         R"({"error": "invalid reading", "detail": [{"field": "device_id", "problem": "required"}, {"field": "ts_utc", "problem": "required"}, {"field": "ts_local", "problem": "required"}, {"field": "payload", "problem": "required"}]})"},
        {"POST",
         "/readings",
         "{}",
         {{"Content-Encoding", "br"}},
         R"({"error": "unsupported content encoding", "detail": {"header": "Content-Encoding", "value": "br", "allowed": ["gzip", "identity"]}})"},
        {"POST",
         "/readings",
         "{}",
         {{"Content-Type", "text/plain"}},
         R"({"error": "unsupported content type", "detail": {"header": "Content-Type", "value": "text/plain", "allowed": "application/json"}})"},
        {"POST", "/readings/bulk", R"({"readings": [1,2,3]})", json,
         R"({"error": "too many readings", "detail": {"field": "readings", "count": 3, "max": 2}})"},
        {"POST", "/readings/bulk", "[]", json,
         R"j({"error": "invalid bulk request", "detail": {"field": "(body)", "problem": "must be an object {\"readings\": [...]}, not array"}})j"},
        {"POST", "/readings", R"({"a": })", json,
         R"({"error": "malformed JSON", "detail": {"offset": 6, "problem": "expected a value"}})"},
        {"GET",
         "/readings?start_date=x&limit=0&after=zz",
         "",
         {},
         R"({"error": "invalid query", "detail": [{"field": "start_date", "problem": "not an RFC 3339 timestamp: x"}, {"field": "end_date", "problem": "required"}, {"field": "limit", "problem": "an integer from 1 to 100"}, {"field": "after", "problem": "not a cursor from a Link header"}]})"},
        {"GET",
         "/readings/latest?device_id=",
         "",
         {},
         R"({"error": "invalid query", "detail": [{"field": "device_id", "problem": "must not be empty"}]})"},
        {"GET",
         "/readings?x=%zz",
         "",
         {},
         R"({"error": "malformed request target", "detail": "/readings?x=%zz"})"},
    };
    for (const auto& c : cases) {
        const ApiRequest r = parseRequest(c.method, c.target, c.headers, c.body, limits);
        ASSERT_TRUE(r.error) << c.method << " " << c.target;
        EXPECT_EQ(r.error->body(), c.expected) << c.method << " " << c.target;
    }
}

}  // namespace
}  // namespace sensorsys::server
