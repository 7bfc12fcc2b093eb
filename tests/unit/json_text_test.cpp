// The shared UTF-8 check and the hand-written JSON strings (common/json_text).
#include <sensorsys/common/json_text.hpp>

#include <gtest/gtest.h>

namespace sensorsys {
namespace {

TEST(JsonText, EscapesAndValidatesUtf8) {
    EXPECT_EQ(jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_TRUE(isValidUtf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
    std::size_t at = 0;
    EXPECT_FALSE(isValidUtf8("ab\xC0\xAF", &at));  // overlong
    EXPECT_EQ(at, 2u);
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xE2\x82"));          // truncated
}

TEST(JsonText, Utf8BoundariesOfEachSequenceLength) {
    EXPECT_TRUE(isValidUtf8("\x7F\xC2\x80\xDF\xBF"));                  // U+007F, U+0080, U+07FF
    EXPECT_TRUE(isValidUtf8("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"));  // U+0800, U+D7FF, U+E000
    EXPECT_TRUE(isValidUtf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));      // U+10000, U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xC1\xBF"));                             // overlong U+007F
    EXPECT_FALSE(isValidUtf8("\xE0\x9F\xBF"));                         // overlong U+07FF
    EXPECT_FALSE(isValidUtf8("\xF0\x8F\xBF\xBF"));                     // overlong U+FFFF
    EXPECT_FALSE(isValidUtf8("\xF5\x80\x80\x80"));                     // no such lead byte
    EXPECT_FALSE(isValidUtf8("\x80"));                                 // lone continuation
    std::size_t at = 0;
    EXPECT_FALSE(isValidUtf8("ok\xE2\x82", &at));
    EXPECT_EQ(at, 2u);
}

TEST(JsonText, Utf8LengthCountsCodePoints) {
    EXPECT_EQ(utf8Length(""), 0u);
    EXPECT_EQ(utf8Length("abc"), 3u);
    EXPECT_EQ(utf8Length("caf\xC3\xA9 \xF0\x9F\x98\x80"), 6u);
}

TEST(JsonText, RepairedUtf8ReplacesEachBadByteAndKeepsTheRest) {
    EXPECT_EQ(repairedUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(repairedUtf8("a\xFF"
                           "b\xE2\x82"),
              "a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_TRUE(isValidUtf8(repairedUtf8("\xC0\xAF\xED\xA0\x80")));
}

TEST(JsonText, JsonStringWritesBytesThatAreNotUtf8AsReplacementCharacters) {
    EXPECT_EQ(jsonString("a\xFF\xC3\xA9"), "\"a\\ufffd\xC3\xA9\"");
}

}  // namespace
}  // namespace sensorsys
