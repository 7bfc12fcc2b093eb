#include "plugin_output.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;

std::string refusal(std::string_view text, std::size_t cap = kDefaultOutputCap) {
    try {
        validatePluginOutput(text, cap);
    } catch (const PluginOutputError& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(PluginOutput, AcceptsObjectAndKeepsItsTextWithoutPadding) {
    EXPECT_EQ(validatePluginOutput("  {\"c\": 21.53, \"f\": 70.75}\n"),
              "{\"c\": 21.53, \"f\": 70.75}");
}

TEST(PluginOutput, AcceptsNestedObjectsAndArrays) {
    EXPECT_NO_THROW(validatePluginOutput(R"({"a": {"b": [1, 2.5, {"c": null}]}})"));
}

TEST(PluginOutput, RefusesInvalidJson) {
    EXPECT_THAT(refusal("{\"c\": }"), HasSubstr("output is not valid JSON"));
    EXPECT_THAT(refusal(""), HasSubstr("output is not valid JSON"));
}

TEST(PluginOutput, RefusesTrailingGarbage) {
    EXPECT_NE(refusal("{\"c\": 1} trailing"), "(accepted)");
}

TEST(PluginOutput, RefusesEverythingButAnObject) {
    EXPECT_EQ(refusal("[1]"), "output is a JSON array, not an object");
    EXPECT_EQ(refusal("\"text\""), "output is a JSON string, not an object");
    EXPECT_EQ(refusal("42"), "output is a JSON scalar, not an object");
    EXPECT_EQ(refusal("null"), "output is null, not an object");
}

TEST(PluginOutput, RefusesNaNAndInfinity) {
    EXPECT_NE(refusal("{\"c\": NaN}"), "(accepted)");
    EXPECT_NE(refusal("{\"c\": Infinity}"), "(accepted)");
    EXPECT_THAT(refusal("{\"a\": {\"b\": [1, -1e400]}}"), HasSubstr("not valid JSON"));
}

TEST(PluginOutput, RefusesOutputOverTheCap) {
    EXPECT_EQ(refusal("{\"pad\": \"xxxxxxxxxx\"}", 10),
              "output of 21 bytes exceeds the cap of 10 bytes");
}

TEST(PluginOutput, RefusesInvalidUtf8) {
    EXPECT_EQ(refusal("{\"c\": \"\xff\"}"), "output is not valid UTF-8");
}

TEST(Utf8, ValidatesEncodings) {
    EXPECT_TRUE(isValidUtf8("plain ascii"));
    EXPECT_TRUE(
        isValidUtf8("\xc2\xb0"
                    "C"));                          // degree sign
    EXPECT_TRUE(isValidUtf8("\xf0\x9f\x8c\xa1"));   // U+1F321
    EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // UTF-16 surrogate
    EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xe2\x82"));          // truncated
}

TEST(PluginOutput, ErrorObjectEscapesTheMessage) {
    EXPECT_EQ(errorObject("bad \"quote\"\n"), R"({"error":"bad \"quote\"\n"})");
}

}  // namespace
}  // namespace sensorsys::agent
