// TimeSource over a fake clock seam: which source wins, how readings are dated and held.
#include "time_source.hpp"

#include <gtest/gtest.h>

#include "reading.hpp"

namespace sensorsys::agent {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// 2026-12-04T12:00:00Z
const system_clock::time_point kTrue = system_clock::time_point(1'796'385'600s);

class FakeSeam final : public ClockSeam {
  public:
    system_clock::time_point wallNow() override {
        return kTrue + wallError + std::chrono::duration_cast<system_clock::duration>(boot);
    }
    std::chrono::nanoseconds boottime() override { return boot; }
    std::string bootId() override { return "boot-a"; }
    KernelClockState kernelState() override { return kernel; }

    std::chrono::nanoseconds boot{10s};  // the true time is kTrue + boot
    system_clock::duration wallError{0s};
    KernelClockState kernel{};
};

std::string serverTimeAt(FakeSeam& seam) {
    return formatUtc(kTrue + std::chrono::duration_cast<system_clock::duration>(seam.boot));
}

TEST(TimeSource, HoldsReadingsUntilASourceAnswers) {
    FakeSeam seam;
    seam.wallError = -std::chrono::hours(24 * 400);
    TimeSource time(seam, ClockMode::Auto, 1s);
    const TimeStamp stamp = time.stampNow();
    EXPECT_TRUE(stamp.held);
    EXPECT_FALSE(time.known());
    EXPECT_FALSE(time.timeAt(seam.boot));
}

TEST(TimeSource, ServerTimeAtTheRoundTripsMiddleDatesEarlierReadings) {
    FakeSeam seam;
    seam.wallError = -std::chrono::hours(24 * 400);
    TimeSource time(seam, ClockMode::Auto, 1s);
    const auto taken = seam.boot;
    seam.boot += 30s;
    const auto sent = seam.boot;
    seam.boot += 100ms;  // the server answers in the middle of the round trip
    const std::string header = serverTimeAt(seam);
    seam.boot += 100ms;
    ASSERT_TRUE(time.offerServerTime(header, sent, seam.boot));
    EXPECT_EQ(time.status().origin, TimeOrigin::Server);
    const auto dated = time.timeAt(taken);
    ASSERT_TRUE(dated);
    EXPECT_EQ(formatUtc(*dated), formatUtc(kTrue + 10s));
    const TimeStamp now = time.stampNow();
    EXPECT_FALSE(now.held);
    EXPECT_TRUE(now.corrected);
    EXPECT_EQ(formatUtc(now.time), serverTimeAt(seam));
}

TEST(TimeSource, RefusesAServerTimeWhoseRoundTripIsTooLong) {
    FakeSeam seam;
    TimeSource time(seam, ClockMode::Auto, 1s);
    const auto sent = seam.boot;
    seam.boot += 2s;
    EXPECT_FALSE(time.offerServerTime(serverTimeAt(seam), sent, seam.boot));
    EXPECT_FALSE(time.known());
}

TEST(TimeSource, ASynchronisedKernelComesFirstAndMarksNothing) {
    FakeSeam seam;
    seam.kernel = {true, 20ms};
    TimeSource time(seam, ClockMode::Auto, 1s);
    const TimeStamp stamp = time.stampNow();
    EXPECT_FALSE(stamp.held);
    EXPECT_FALSE(stamp.corrected);
    EXPECT_EQ(time.status().origin, TimeOrigin::Kernel);
    const auto sent = seam.boot;
    seam.boot += 10ms;
    EXPECT_FALSE(time.offerServerTime(serverTimeAt(seam), sent, seam.boot));
    EXPECT_EQ(time.status().origin, TimeOrigin::Kernel);
}

TEST(TimeSource, AKernelWithTooLargeAMaxErrorIsNotASource) {
    FakeSeam seam;
    seam.kernel = {true, 16s};
    TimeSource time(seam, ClockMode::Kernel, 1s);
    EXPECT_TRUE(time.stampNow().held);
}

TEST(TimeSource, KernelModeIgnoresTheServer) {
    FakeSeam seam;
    TimeSource time(seam, ClockMode::Kernel, 1s);
    const auto sent = seam.boot;
    seam.boot += 10ms;
    EXPECT_FALSE(time.offerServerTime(serverTimeAt(seam), sent, seam.boot));
    EXPECT_FALSE(time.wantsServerTime());
    EXPECT_TRUE(time.stampNow().held);
}

TEST(TimeSource, LocalModeTrustsTheWallClock) {
    FakeSeam seam;
    seam.wallError = 5h;
    TimeSource time(seam, ClockMode::Local, 1s);
    const TimeStamp stamp = time.stampNow();
    EXPECT_FALSE(stamp.held);
    EXPECT_FALSE(stamp.corrected);
    EXPECT_EQ(stamp.time, seam.wallNow());
}

TEST(TimeSource, ASynchronisedKernelFollowsAStepOfTheWallClock) {
    FakeSeam seam;
    seam.kernel = {true, 20ms};
    TimeSource time(seam, ClockMode::Auto, 1s);
    time.stampNow();
    seam.wallError = -1h;
    EXPECT_EQ(time.stampNow().time, seam.wallNow());
}

TEST(TimeSource, ParsesTheServerTimeHeader) {
    const auto t = parseUtc("2026-12-04T12:00:00.250000Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, kTrue + 250ms);
    EXPECT_FALSE(parseUtc("yesterday"));
    EXPECT_THROW(parseClockMode("ntp"), std::invalid_argument);
}

}  // namespace
}  // namespace sensorsys::agent
