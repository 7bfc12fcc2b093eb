// The exec plugin's word splitter: shell quoting rules without any expansion.
#include "exec_words.hpp"

#include "error_of.hpp"

#include <sensorsys/plugin_support.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using sensorsys::exec::splitWords;
using sensorsys::plugin::ConfigError;
using testing::ElementsAre;
using testing::HasSubstr;

std::string refusal(const std::string& command) {
    return sensorsys::test::errorOf<ConfigError>([&] { splitWords(command); });
}

TEST(ExecWords, SplitsOnRunsOfBlanks) {
    EXPECT_THAT(splitWords("  /opt/read.sh\t--fast \n 3 "),
                ElementsAre("/opt/read.sh", "--fast", "3"));
}

TEST(ExecWords, SingleQuotesKeepEverythingLiterally) {
    EXPECT_THAT(splitWords(R"(echo 'a  b' '$HOME' 'back\slash' 'x"y')"),
                ElementsAre("echo", "a  b", "$HOME", R"(back\slash)", R"(x"y)"));
}

TEST(ExecWords, DoubleQuotesEscapeOnlyDollarBacktickQuoteAndBackslash) {
    EXPECT_THAT(splitWords(R"(echo "a \"b\" \\ \$x \`y\` \n")"),
                ElementsAre("echo", R"(a "b" \ $x `y` \n)"));
}

TEST(ExecWords, BackslashOutsideQuotesEscapesTheNextCharacter) {
    EXPECT_THAT(splitWords(R"(echo a\ b \'c \\ \|)"), ElementsAre("echo", "a b", "'c", "\\", "|"));
}

TEST(ExecWords, AdjacentPartsFormOneWordAndEmptyQuotesAnEmptyWord) {
    EXPECT_THAT(splitWords(R"(printf a'b'"c"d '' "")"), ElementsAre("printf", "abcd", "", ""));
}

TEST(ExecWords, BackslashNewlineJoinsLines) {
    EXPECT_THAT(splitWords("echo a\\\nb \\\n c"), ElementsAre("echo", "ab", "c"));
}

TEST(ExecWords, ExpandsNothing) {
    EXPECT_THAT(splitWords("echo $HOME ~ *.txt `id` ${X:-y}"),
                ElementsAre("echo", "$HOME", "~", "*.txt", "`id`", "${X:-y}"));
}

TEST(ExecWords, RefusesUnterminatedQuotesAndTrailingBackslash) {
    EXPECT_EQ(refusal("echo 'abc"), "key 'command' has an unterminated single quote");
    EXPECT_EQ(refusal(R"(echo "abc)"), "key 'command' has an unterminated double quote");
    EXPECT_EQ(refusal(R"(echo "abc\")"), "key 'command' has an unterminated double quote");
    EXPECT_EQ(refusal("echo abc\\"), "key 'command' ends in a backslash that escapes nothing");
}

TEST(ExecWords, RefusesUnquotedShellOperatorsPointingAtShellTrue) {
    for (const char* command : {"a | b", "a; b", "a && b", "a > f", "a < f", "(a)"}) {
        EXPECT_THAT(refusal(command), HasSubstr("needs a shell: quote it, or set shell = true"))
            << command;
    }
    EXPECT_THAT(splitWords("echo 'a | b' \"c;d\""), ElementsAre("echo", "a | b", "c;d"));
}

TEST(ExecWords, RefusesACommandWithoutWords) {
    EXPECT_EQ(refusal(" \t"), "key 'command' must name a program to run");
}

}  // namespace
