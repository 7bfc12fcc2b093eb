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

// Found by fuzz/json_layer_fuzzer.cpp: outputs the agent kept made readings the server
// refused (and the agent then quarantined, with every other sensor's value of that tick).
TEST(PluginOutput, RefusesJsonTheServerCannotStore) {
    EXPECT_THAT(refusal(R"({"a": "x\u0000y"})"), HasSubstr("\\u0000"));
    EXPECT_NE(refusal(R"({"a": "\ud800"})"), "(accepted)");
    EXPECT_NE(refusal(R"({"a": "\ud800\u0041"})"), "(accepted)");
    EXPECT_EQ(refusal(R"({"a": "\ud83d\ude00", "\\u0000": 1})"), "(accepted)");
    const auto nested = [](std::size_t levels) {
        return "{\"a\": " + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
    };
    EXPECT_EQ(refusal(nested(60)), "(accepted)");
    EXPECT_EQ(refusal(nested(61)), "output is nested more than 60 levels deep");
    EXPECT_THAT(refusal("{\"a\": 1." + std::string(600, '0') + "}"),
                HasSubstr("more than 500 characters"));
    EXPECT_THAT(refusal(R"({"a": 1e-1001})"), HasSubstr("exponent beyond 1000"));
    EXPECT_EQ(refusal(R"({"a": 1e-999, "b": -0.5E+3})"), "(accepted)");
}

// Found by fuzz/json_layer_fuzzer.cpp: a plugin's error text cut mid-character made an error
// object that was not UTF-8, so the server refused the whole reading.
TEST(PluginOutput, ErrorObjectReplacesBytesThatAreNotUtf8) {
    const std::string object = errorObject("no device at /dev/caf\xc3\xa9 \xff, cut \xe2\x82");
    EXPECT_EQ(
        object,
        "{\"error\":\"no device at /dev/caf\xc3\xa9 \xef\xbf\xbd, cut \xef\xbf\xbd\xef\xbf\xbd\"}");
    EXPECT_EQ(validatePluginOutput(object), object);
}

}  // namespace
}  // namespace sensorsys::agent
