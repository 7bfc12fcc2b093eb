#include "tick_schedule.hpp"

#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using namespace std::chrono;
using Ms = milliseconds;

system_clock::time_point at(long long ms) {
    return system_clock::time_point(Ms(ms));
}

TEST(TickSchedule, AlignsToMultiplesOfTheInterval) {
    EXPECT_EQ(nextTick(at(61'234), {Ms(60'000)}), at(120'000));
    EXPECT_EQ(nextTick(at(120'000), {Ms(60'000)}), at(180'000));  // strictly after now
}

TEST(TickSchedule, EarliestOfSeveralIntervalsWins) {
    EXPECT_EQ(nextTick(at(61'234), {Ms(60'000), Ms(10'000)}), at(70'000));
}

TEST(TickSchedule, FractionalIntervals) {
    EXPECT_EQ(nextTick(at(1'050), {Ms(100)}), at(1'100));
}

TEST(TickSchedule, AfterASuspendMissedTicksAreSkippedNotReplayed) {
    // Asleep from 60 s to 10 min: the next tick is the next boundary, once.
    EXPECT_EQ(nextTick(at(600'500), {Ms(60'000)}), at(660'000));
}

TEST(TickSchedule, RejectsEmptyOrZero) {
    EXPECT_THROW(nextTick(at(0), {}), std::invalid_argument);
    EXPECT_THROW(nextTick(at(0), {Ms(0)}), std::invalid_argument);
}

}  // namespace
}  // namespace sensorsys::agent
