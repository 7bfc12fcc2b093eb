// The shared strict JSON reader (common/): what it accepts, what it refuses and why.
#include <sensorsys/common/json_cursor.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace sensorsys {
namespace {

// Reads one whole value; the problem if it is refused.
std::optional<JsonSyntaxError::Problem> problemOf(const std::string& text,
                                                  int maxDepth = kMaxJsonDepth) {
    try {
        JsonCursor c(text, maxDepth);
        c.skipValue(0);
        c.end();
        return std::nullopt;
    } catch (const JsonSyntaxError& e) {
        return e.problem();
    }
}

bool valid(const std::string& text) {
    return !problemOf(text);
}

std::string nested(int levels) {
    return std::string(levels, '[') + std::string(levels, ']');
}

TEST(JsonCursor, AcceptsWhatJsonbStoresAndRefusesTheRest) {
    EXPECT_TRUE(
        valid(R"({"a": [1, -0.5e+3, true, false, null, "x\u00e9\ud83d\ude00\n"], "b": {}})"));
    EXPECT_TRUE(valid(" [] "));
    EXPECT_TRUE(valid("1e999"));
    for (const char* bad : {"{\"a\": 1,}", "[1,]", "{,}", "[01]", "[1.]", "[.5]", "[+1]",
                            "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"\\x\"", "\"a\tb\"",
                            "nul", "[1] [2]", "1e99999", "{\"a\" 1}", "{1: 2}", "\"open"}) {
        EXPECT_FALSE(valid(bad)) << bad;
    }
    EXPECT_FALSE(valid(nested(65)));
    EXPECT_TRUE(valid(nested(64)));
}

TEST(JsonCursor, NamesTheLimitARefusalComesFrom) {
    using Problem = JsonSyntaxError::Problem;
    EXPECT_EQ(problemOf("[1,]"), Problem::Syntax);
    EXPECT_EQ(problemOf(nested(kMaxJsonDepth + 1)), Problem::TooDeep);
    EXPECT_EQ(problemOf(R"(["a\u0000"])"), Problem::Unstorable);
    EXPECT_EQ(problemOf("1e" + std::to_string(kMaxJsonExponent + 1)), Problem::Unstorable);
    EXPECT_EQ(problemOf("1." + std::string(kMaxJsonNumberChars, '0')), Problem::Unstorable);
    EXPECT_EQ(problemOf("1." + std::string(kMaxJsonNumberChars - 2, '0')), std::nullopt);
}

TEST(JsonCursor, DepthLimitIsTheOneGiven) {
    EXPECT_EQ(problemOf(nested(3), 3), std::nullopt);
    EXPECT_EQ(problemOf(nested(4), 3), JsonSyntaxError::Problem::TooDeep);
    try {
        JsonCursor(nested(4), 3).skipValue(0);
        FAIL() << "accepted";
    } catch (const JsonSyntaxError& e) {
        EXPECT_STREQ(e.what(), "nested too deeply (more than 3 levels)");
        EXPECT_EQ(e.offset(), 3u);
    }
}

TEST(JsonCursor, ReadsNumbersAsTheirText) {
    JsonCursor c(R"([ -12.5e+3 , 0])");
    c.beginArray(0);
    bool first = true;
    ASSERT_TRUE(c.nextElement(first));
    EXPECT_EQ(c.readNumber(), "-12.5e+3");
    ASSERT_TRUE(c.nextElement(first));
    EXPECT_EQ(c.readNumber(), "0");
    EXPECT_FALSE(c.nextElement(first));
    EXPECT_THROW(JsonCursor("\"1\"").readNumber(), JsonSyntaxError);
}

TEST(JsonCursor, ReadStringUnescapesEveryEscape) {
    EXPECT_EQ(JsonCursor(R"("\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")").readString(),
              "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace sensorsys
