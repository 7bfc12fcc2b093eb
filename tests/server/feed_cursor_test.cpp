// FeedCursor: the exact position in the change feed and its text form (the live `cursor`).
#include "feed_cursor.hpp"

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

TEST(FeedCursor, IdsDeliveredOutOfOrderAreRangesAboveTheSettledPoint) {
    FeedCursor c(10);
    c.add(13);
    c.add(14);
    c.add(17);
    EXPECT_EQ(c.text(), "10~13-14,17");
    EXPECT_EQ(c.multirange(), "{[13,14],[17,17]}");
    EXPECT_TRUE(c.delivered(9));
    EXPECT_FALSE(c.delivered(11));
    EXPECT_TRUE(c.delivered(14));
    EXPECT_FALSE(c.delivered(15));
    EXPECT_EQ(c.highest(), 17);
}

TEST(FeedCursor, FillingTheGapAdvancesTheSettledPoint) {
    FeedCursor c(10);
    c.add(12);
    c.add(11);
    EXPECT_EQ(c.text(), "12");
    c.add(14);
    c.add(16);
    c.add(15);
    EXPECT_EQ(c.text(), "12~14-16");
}

TEST(FeedCursor, SettlingDropsTheRangesItCovers) {
    FeedCursor c(10);
    c.add(12);
    c.add(20);
    c.add(22);
    c.settle(19);
    EXPECT_EQ(c.text(), "20~22");
    c.settle(5);
    EXPECT_EQ(c.text(), "20~22");
}

TEST(FeedCursor, TextRoundTripsAndMalformedTextIsRefused) {
    for (const char* text : {"0", "42", "10~12", "10~12-15,20,30-31"}) {
        const auto parsed = FeedCursor::parse(text);
        ASSERT_TRUE(parsed) << text;
        EXPECT_EQ(parsed->text(), text);
    }
    for (const char* text : {"", "x", "-1", "10~", "10~9", "10~12,11", "10~12-11", "10~12,13",
                             "10~10", "1~2,", "99999999999999999999", "10 "}) {
        EXPECT_FALSE(FeedCursor::parse(text)) << text;
    }
}

}  // namespace
}  // namespace sensorsys::server
