#include <sensorsys/common/uuid_v7.hpp>

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

TEST(UuidV7, HasVersionAndVariantBits) {
    UuidV7Generator generator;
    const std::regex v7("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(generator.next(), v7));
}

TEST(UuidV7, CarriesTheMillisecondTimestamp) {
    UuidV7Generator generator;
    const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(0x0190f1c2a3b4));
    EXPECT_EQ(generator.next(t).substr(0, 13), "0190f1c2-a3b4");
}

TEST(UuidV7, IdsMadeInOneMillisecondAreUniqueAndOrdered) {
    UuidV7Generator generator;
    const auto t = std::chrono::system_clock::now();
    std::string previous;
    std::set<std::string> seen;
    for (int i = 0; i < 10'000; ++i) {
        const std::string id = generator.next(t);
        EXPECT_GT(id, previous);
        previous = id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 10'000u);
}

TEST(UuidV7, ClockSteppingBackStillOrders) {
    UuidV7Generator generator;
    const auto t = std::chrono::system_clock::now();
    const std::string later = generator.next(t);
    EXPECT_GT(generator.next(t - std::chrono::seconds(5)), later);
}

}  // namespace
}  // namespace sensorsys::agent

namespace sensorsys::agent {
namespace {

// The reading's time is in its id: after a large step back the id must follow the clock.
TEST(UuidV7, LargeStepBackFollowsTheClockWhenHoldBackIsBounded) {
    UuidV7Generator generator(std::chrono::milliseconds(500));
    const auto t = std::chrono::system_clock::now();
    const std::string later = generator.next(t);
    const std::string earlier = generator.next(t - std::chrono::hours(1));
    EXPECT_LT(earlier, later);
    EXPECT_NE(earlier.substr(0, 8), later.substr(0, 8));
    EXPECT_GT(generator.next(t - std::chrono::hours(1) - std::chrono::milliseconds(100)), earlier);
}

}  // namespace
}  // namespace sensorsys::agent
