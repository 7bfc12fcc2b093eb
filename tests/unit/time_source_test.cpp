// TimeSource over a fake clock seam: which source wins, how readings are dated and held.
#include "time_source.hpp"

#include <gtest/gtest.h>

#include <Poco/Logger.h>

#include "held_readings.hpp"
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

// Held rows in memory: what HeldReadings reads and what it releases them with.
class HeldOnlyStore final : public ReadingStore {
  public:
    void add(const StoredReading&) override {}
    std::vector<StoredReading> oldestUnsynced(std::size_t, std::int64_t) override { return {}; }
    void markSynced(const std::vector<std::int64_t>&) override {}
    void quarantine(const std::vector<std::pair<std::int64_t, std::string>>&) override {}
    StoreStats stats() override { return {}; }
    RetentionResult deleteStratified(std::int64_t, std::int64_t) override { return {}; }
    void compact() override {}
    std::string filesystemPath() const override { return {}; }
    std::vector<HeldReading> held(std::size_t, std::int64_t after) override {
        std::vector<HeldReading> out;
        for (const auto& row : rows) {
            if (row.id > after) out.push_back(row);
        }
        return out;
    }
    void release(const std::vector<Release>& released) override {
        for (const auto& r : released) {
            std::erase_if(rows, [&](const HeldReading& h) { return h.id == r.id; });
            releases.push_back(r);
        }
    }

    std::vector<HeldReading> rows;
    std::vector<Release> releases;
};

TEST(HeldReadings, ReadingsOfThisBootWaitUntilASourceAnswersThenGetTheirTrueTime) {
    FakeSeam seam;
    seam.wallError = -std::chrono::hours(24 * 400);
    TimeSource time(seam, ClockMode::Auto, 1s);
    HeldOnlyStore store;
    store.rows.push_back({1, "old-id", "boot-a", 10'000'000'000, formatUtc(seam.wallNow())});
    HeldReadings held(store, time, Poco::Logger::get("test"));
    EXPECT_EQ(held.release(), 0u);
    EXPECT_EQ(store.rows.size(), 1u);

    const auto sent = seam.boot;
    seam.boot += 20ms;  // the server answers in the middle of the round trip
    const std::string header = serverTimeAt(seam);
    seam.boot += 20ms;
    ASSERT_TRUE(time.offerServerTime(header, sent, seam.boot));
    EXPECT_EQ(held.release(), 1u);
    ASSERT_EQ(store.releases.size(), 1u);
    const Release& r = store.releases[0];
    EXPECT_EQ(r.tsUtc, formatUtc(kTrue + 10s));
    EXPECT_EQ(r.tsLocal, formatLocal(kTrue + 10s));
    EXPECT_EQ(r.tsQuality, "corrected");
    EXPECT_NE(r.readingId, "old-id");
    // The UUIDv7's 48-bit millisecond time is the reading's time.
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>((kTrue + 10s).time_since_epoch())
            .count();
    char hex[16];
    std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(millis));
    EXPECT_EQ(r.readingId.substr(0, 8) + r.readingId.substr(9, 4), hex);
}

TEST(HeldReadings, AReadingDatedByARightWallClockIsNotMarked) {
    FakeSeam seam;
    TimeSource time(seam, ClockMode::Auto, 1s);
    HeldOnlyStore store;
    store.rows.push_back({1, "old-id", "boot-a", 10'000'000'000, formatUtc(kTrue + 10s)});
    HeldReadings held(store, time, Poco::Logger::get("test"));
    const auto sent = seam.boot;
    seam.boot += 20ms;  // the server answers in the middle of the round trip
    const std::string header = serverTimeAt(seam);
    seam.boot += 20ms;
    ASSERT_TRUE(time.offerServerTime(header, sent, seam.boot));
    EXPECT_EQ(held.release(), 1u);
    EXPECT_EQ(store.releases.at(0).tsQuality, "");
}

TEST(HeldReadings, AReadingOfAnEarlierBootIsSentUnsyncedWithItsWallTime) {
    FakeSeam seam;
    TimeSource time(seam, ClockMode::Auto, 1s);
    HeldOnlyStore store;
    store.rows.push_back({1, "old-id", "boot-earlier", 10'000'000'000, "2025-01-01T00:00:00Z"});
    HeldReadings held(store, time, Poco::Logger::get("test"));
    EXPECT_EQ(held.release(), 1u);  // no source needed
    const Release& r = store.releases.at(0);
    EXPECT_EQ(r.tsQuality, "unsynced");
    EXPECT_EQ(r.readingId, "");  // kept
    EXPECT_EQ(r.tsUtc, "");
}

}  // namespace
}  // namespace sensorsys::agent
