// The real agent under an LD_PRELOAD shim that fakes its wall clock and the kernel's NTP state
// (tests/fixtures/clock_shim), against the real server: readings taken while the clock is wrong
// arrive with their true time, once and in order; steps of the clock neither duplicate nor
// stall; a clock the server cannot believe is refused and the agent says why.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent_server_fixture.hpp"

namespace sensorsys::test {
namespace {

using Clock = std::chrono::system_clock;

constexpr const char* kFourHundredDaysAgo = "-34560000";  // seconds

struct ServerReading {
    std::string readingId;
    Clock::time_point tsUtc;
    std::string quality;  // "" when the server returned no ts_quality
};

Clock::time_point parseTime(const std::string& text) {
    int zone = 0;
    const auto parsed =
        Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, zone);
    return Clock::time_point(
        std::chrono::microseconds(parsed.timestamp().epochMicroseconds() - zone * 1'000'000LL));
}

class ClockE2E : public AgentServerE2E {
  protected:
    // The shim's state: wall clock offset (seconds), kernel synchronised, kernel maxerror (us).
    void setClock(const std::string& offset, bool synced, long max_error_us = 1000) {
        writeFile(shimFile,
                  offset + " " + (synced ? "1" : "0") + " " + std::to_string(max_error_us) + "\n");
    }

    // Under ASan the shim comes before the runtime in the preload list, which ASan refuses
    // unless told not to check; the suite's own options are kept.
    static std::string asanOptions() {
        const char* inherited = std::getenv("ASAN_OPTIONS");
        return std::string("ASAN_OPTIONS=") + (inherited ? std::string(inherited) + ":" : "") +
               "verify_asan_link_order=0";
    }

    std::unique_ptr<Background> startShimmedAgent(const std::string& interval) {
        return startAgent(interval, {"LD_PRELOAD=" + std::string(SENSORSYS_CLOCK_SHIM),
                                     "SENSORSYS_CLOCK_SHIM=" + shimFile.string(), asanOptions()});
    }

    // The server's readings of the device, in its order (ts_local).
    std::vector<ServerReading> serverReadings() const {
        const auto [code, body] = httpGet(port,
                                          "/readings?start_date=2000-01-01T00:00:00Z"
                                          "&end_date=2200-01-01T00:00:00Z&device_id=" +
                                              std::string(kDevice),
                                          readToken);
        EXPECT_EQ(code, 200) << body;
        std::vector<ServerReading> out;
        const auto list = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto item = list->getObject(static_cast<unsigned>(i));
            out.push_back({item->getValue<std::string>("reading_id"),
                           parseTime(item->getValue<std::string>("ts_utc")),
                           item->optValue<std::string>("ts_quality", "")});
        }
        return out;
    }

    void waitForEmptyBacklog() {
        EXPECT_TRUE(eventually([&] { return status()->getValue<long long>("backlog") == 0; }, 30s))
            << "backlog " << status()->getValue<long long>("backlog");
    }

    // Every reading once, dated within [from - 1 s, to + 1 s] of the true time, in the order
    // taken (reading_id order is ts_utc order), each marked `quality`.
    void expectTrueTimes(Clock::time_point from, Clock::time_point to, const std::string& quality) {
        const auto readings = serverReadings();
        ASSERT_FALSE(readings.empty());
        EXPECT_EQ(static_cast<long long>(readings.size()),
                  status()->getValue<long long>("synced_kept"));
        std::set<std::string> ids;
        for (const auto& r : readings) {
            EXPECT_TRUE(ids.insert(r.readingId).second) << r.readingId << " twice";
            EXPECT_GE(r.tsUtc, from - 1s);
            EXPECT_LE(r.tsUtc, to + 1s);
            EXPECT_EQ(r.quality, quality) << r.readingId;
        }
        auto by_id = readings;
        std::sort(by_id.begin(), by_id.end(),
                  [](const auto& a, const auto& b) { return a.readingId < b.readingId; });
        for (std::size_t i = 1; i < by_id.size(); ++i) {
            EXPECT_LT(by_id[i - 1].tsUtc, by_id[i].tsUtc) << "out of order";
        }
    }

    fs::path shimFile = work / "clock";
};

TEST_P(ClockE2E, BootedFourHundredDaysInThePastReadingsArriveWithTheirTrueTimeMarkedCorrected) {
    writeFile(work / "none.properties", "");
    setClock(kFourHundredDaysAgo, false, 16'000'000);
    const auto server = startServer();
    const auto from = Clock::now();
    const auto agent = startShimmedAgent("0.5");
    std::this_thread::sleep_for(4s);
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    const auto to = Clock::now();
    const auto again = startAgent(kNoTicks);
    waitForEmptyBacklog();
    again->stop(SIGTERM, 5s);
    expectTrueTimes(from, to, "corrected");
}

TEST_P(ClockE2E, ServerUnreachableAtFirstReadingsWaitThenArriveWithTheirTrueTime) {
    writeFile(work / "none.properties", "");
    setClock(kFourHundredDaysAgo, false, 16'000'000);
    const auto from = Clock::now();
    const auto agent = startShimmedAgent("0.5");
    std::this_thread::sleep_for(8s);  // no server: every reading is held
    EXPECT_GT(status()->getValue<long long>("held"), 10);
    const auto server = startServer();
    waitForEmptyBacklog();
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    const auto to = Clock::now();
    waitForEmptyBacklog();
    expectTrueTimes(from, to, "corrected");
}

TEST_P(ClockE2E, ASynchronisedRightKernelClockMarksNothing) {
    writeFile(work / "none.properties", "");
    setClock("0", true);
    const auto server = startServer();
    const auto from = Clock::now();
    const auto agent = startShimmedAgent("0.5");
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    const auto to = Clock::now();
    waitForEmptyBacklog();
    expectTrueTimes(from, to, "");
}

TEST_P(ClockE2E, ReadingsOfAnEarlierBootThatNeverLearnedTheTimeAreSentUnsynced) {
    writeFile(work / "none.properties", "");
    setClock(kFourHundredDaysAgo, false, 16'000'000);
    const auto agent = startShimmedAgent("0.5");  // no server in this "boot"
    std::this_thread::sleep_for(2s);
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session buffer("SQLite", (work / "buffer.db").string());
        buffer << "UPDATE readings SET boot_id = 'an-earlier-boot'", Poco::Data::Keywords::now;
    }
    const auto server = startServer();
    const auto again = startAgent(kNoTicks);
    waitForEmptyBacklog();
    again->stop(SIGTERM, 5s);
    const auto readings = serverReadings();
    ASSERT_FALSE(readings.empty());
    for (const auto& r : readings) {
        EXPECT_EQ(r.quality, "unsynced");
        EXPECT_LT(r.tsUtc, Clock::now() - std::chrono::hours(24 * 399));  // its wall time
    }
}

TEST_P(ClockE2E, ABackwardStepOfAnHourWhileSynchronisedNeitherDuplicatesNorStalls) {
    writeFile(work / "none.properties", "");
    setClock("0", true);
    const auto server = startServer();
    const auto agent = startShimmedAgent("0.5");
    std::this_thread::sleep_for(3s);
    const auto step = Clock::now();
    setClock("-3600", true);
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    waitForEmptyBacklog();
    const auto readings = serverReadings();
    std::set<std::string> ids;
    int after_step = 0;
    for (const auto& r : readings) {
        EXPECT_TRUE(ids.insert(r.readingId).second) << r.readingId << " twice";
        if (r.tsUtc < step - 30min) ++after_step;
    }
    EXPECT_GE(after_step, 4) << "the tick loop stalled after the step";
    EXPECT_LE(readings.size(), 6s / 500ms + 4) << "a burst of ticks";
    EXPECT_EQ(static_cast<long long>(readings.size()),
              status()->getValue<long long>("synced_kept"));
}

TEST_P(ClockE2E, AClockSynchronisedTo2099IsRefusedQuarantinedAndExplained) {
    writeFile(work / "none.properties", "");
    setClock("2303078400", true);  // + 26,656 days: late 2099
    const auto server = startServer();
    const auto agent = startShimmedAgent("0.5");
    EXPECT_TRUE(eventually([&] { return status()->getValue<long long>("quarantined") > 0; }, 15s))
        << agent->err();
    ASSERT_EQ(agent->stop(SIGTERM, 5s), 0) << agent->err();
    EXPECT_TRUE(serverReadings().empty());
    const auto text =
        run({SENSORSYS_AGENT_BINARY, "--status", "--config", (work / "none.properties").string(),
             "--define", "agent.status_file=" + (work / "status.json").string(), "--define",
             "store.path=" + (work / "buffer.db").string()});
    EXPECT_THAT(text.out, ::testing::HasSubstr("ts_utc"));
    EXPECT_THAT(text.out, ::testing::HasSubstr("ahead of the server's clock"));
}

INSTANTIATE_TEST_SUITE_P(Store, ClockE2E, ::testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sensorsys::test
