// GET /readings/series parameters without a database: defaults, repeats, step choice.
#include "api_request.hpp"

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

ApiRequest parse(const std::string& target, RequestLimits limits = {}) {
    return parseRequest("GET", target, {}, "", limits);
}

constexpr std::int64_t kHour = 3600LL * 1000000;

TEST(SeriesQuery, RepeatedDevicesAndMetricsAreKeptInOrderWithTheGivenRange) {
    const auto r = parse(
        "/readings/series?device_id=b&device_id=a&metric=x.y&metric=n"
        "&start_date=2026-11-27T00:00:00%2B01:00&end_date=2026-11-28T00:00:00Z&step=1h&tz=Europe/"
        "Berlin");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.series.deviceIds, (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(r.series.metrics, (std::vector<std::string>{"x.y", "n"}));
    EXPECT_EQ(r.series.end.epochMicros - r.series.start.epochMicros, 25 * kHour);
    EXPECT_EQ(r.series.step.name, "1h");
    EXPECT_EQ(r.series.tz, "Europe/Berlin");
}

TEST(SeriesQuery, WithoutRangeItCoversTheLast24HoursInUtc) {
    const auto r = parse("/readings/series?device_id=a&metric=n");
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.series.end.epochMicros - r.series.start.epochMicros, 24 * kHour);
    EXPECT_EQ(r.series.tz, "UTC");
    EXPECT_EQ(r.series.step.name, "5m");  // 288 buckets; 1m would give 1440 > 1000
}

TEST(SeriesQuery, AutoPicksTheFinestStepWithinPoints) {
    const std::string base =
        "/readings/series?device_id=a&metric=n&start_date=2025-01-01T00:00:00Z&end_date=";
    EXPECT_EQ(parse(base + "2026-01-01T00:00:00Z").series.step.name, "1d");
    EXPECT_EQ(parse(base + "2025-01-31T00:00:00Z").series.step.name, "1h");
    EXPECT_EQ(parse(base + "2025-01-31T00:00:00Z&points=200").series.step.name, "6h");
    EXPECT_EQ(parse(base + "2025-01-01T10:00:00Z&step=auto").series.step.name, "1m");
}

TEST(SeriesQuery, PointsAboveTheConfiguredLimitAreRefused) {
    RequestLimits limits;
    limits.seriesPoints = 50;
    const auto r = parse("/readings/series?device_id=a&metric=n&points=51", limits);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->body().find("points"), std::string::npos);
}

}  // namespace
}  // namespace sensorsys::server
