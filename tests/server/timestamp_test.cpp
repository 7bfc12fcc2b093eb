#include "timestamp.hpp"
#include <chrono>
#include <sensorsys/common/uuid_v7.hpp>
#include "api_request.hpp"

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

TEST(Timestamp, ParsesOffsetsFractionsAndNaiveAsUtc) {
    auto ts = parseTimestamp("2026-11-27T06:00:00.5+01:00");
    ASSERT_TRUE(ts);
    EXPECT_EQ(ts->offsetSeconds, 3600);
    EXPECT_EQ(ts->epochMicros, 1795755600500000);
    EXPECT_EQ(parseTimestamp("2026-11-27T05:00:00.5")->epochMicros, ts->epochMicros);
    EXPECT_EQ(parseTimestamp("2026-11-27 05:00:00.500000z")->epochMicros, ts->epochMicros);
    EXPECT_EQ(parseTimestamp("2026-11-27T00:30:00.5-0430")->epochMicros, ts->epochMicros);
    EXPECT_EQ(parseTimestamp("1969-12-31T23:59:59.999999Z")->epochMicros, -1);
    EXPECT_EQ(parseTimestamp("2024-02-29T00:00:00.123456789Z")->epochMicros % 1000000, 123456);
}

TEST(Timestamp, RejectsImpossibleAndMalformedText) {
    for (const char* bad :
         {"", "2026-11-27", "2026-11-27T05:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
          "2026-11-27T05:00:60Z", "2026-11-27T05:00:00+24:00", "2026-11-27T05:00:00Zjunk",
          "2026-11-27T05:00:00.Z", "0000-01-01T00:00:00Z", "2026-11-27X05:00:00Z",
          "2026-11-27T05:00:00.1234567890Z", "0001-01-01T00:00:00+05:00",
          "9999-12-31T23:00:00-05:00"}) {
        EXPECT_FALSE(parseTimestamp(bad)) << bad;
    }
}

TEST(Timestamp, FormatsLikePythonIsoformatWithTheOriginalOffset) {
    EXPECT_EQ(formatTimestamp(*parseTimestamp("2026-11-27T06:00:00+01:00")),
              "2026-11-27T06:00:00+01:00");
    EXPECT_EQ(formatTimestamp(*parseTimestamp("2026-11-27T06:00:00.000123-05:30")),
              "2026-11-27T06:00:00.000123-05:30");
    EXPECT_EQ(formatUtcForSql(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(formatUtcForSql(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(formatTimestamp(*parseTimestamp("0001-01-03T00:00:00.5+14:00")),
              "0001-01-03T00:00:00.500000+14:00");
    EXPECT_EQ(formatTimestamp(*parseTimestamp("9999-12-30T10:00:00.999999-12:45")),
              "9999-12-30T10:00:00.999999-12:45");
    std::string out = "at ";
    appendTimestamp(out, {0, -3600});
    EXPECT_EQ(out, "at 1969-12-31T23:00:00-01:00");
}

TEST(Timestamp, FormattedTextParsesBackToTheSameInstantAndOffset) {
    // Steps of a prime number of microseconds and seconds: every field takes many values.
    for (std::int64_t micros = -2'000'000'000'000'000; micros < 4'000'000'000'000'000;
         micros += 7'777'777'777'777) {
        for (const int offset : {0, 19800, -34200, 50400}) {
            const Timestamp ts{micros, offset};
            const auto back = parseTimestamp(formatTimestamp(ts));
            ASSERT_TRUE(back) << formatTimestamp(ts);
            EXPECT_EQ(back->epochMicros, micros) << formatTimestamp(ts);
            EXPECT_EQ(back->offsetSeconds, offset) << formatTimestamp(ts);
            EXPECT_EQ(parseTimestamp(formatUtcForSql(micros))->epochMicros, micros);
        }
    }
}

}  // namespace
}  // namespace sensorsys::server

namespace sensorsys::server {
namespace {

TEST(UuidV7, IsVersion7VariantRfcAndOrderedByTime) {
    UuidV7Generator g;
    const auto a =
        g.next(std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000000)));
    const auto b =
        g.next(std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000001)));
    EXPECT_TRUE(canonicalUuid(a));
    EXPECT_EQ(a[14], '7');
    EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
    EXPECT_LT(a, b);
    EXPECT_EQ(a.substr(0, 13), "018bcfe5-6800");
    EXPECT_NE(g.next(), g.next());
}

}  // namespace
}  // namespace sensorsys::server
