// The SGP30 thread against the emulated chip on a clock the test drives: warm-up, the 1 Hz
// cadence, errors surfacing in read(), baseline restore and hourly / final saves, and the
// thread gone after destruction.
#include "sgp30_monitor.hpp"
#include "baseline_file.hpp"
#include "fake_clock.hpp"
#include "sgp30_emulator.hpp"

#include "error_of.hpp"

#include <Poco/TemporaryFile.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace {

using namespace sensorsys;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::uint16_t kIaqInit = 0x2003;
constexpr std::uint16_t kMeasureIaq = 0x2008;
constexpr std::uint16_t kGetIaqBaseline = 0x2015;
const auto kStart = std::chrono::sys_days(std::chrono::year(2026) / 6 / 1) + 12h;
constexpr const char* kWarmingUp = R"({"warming_up": true})";

class Sgp30Monitor : public ::testing::Test {
  protected:
    void SetUp() override { std::filesystem::create_directories(folder.path()); }

    void start(std::string baselineFile) {
        monitor.emplace(std::make_unique<test::EmulatedBus>(chip), clock, std::move(baselineFile));
        clock->runFor(0s);  // the thread's start (iaq_init, first measurement) has happened
    }
    std::optional<sgp30::Baseline> stored(std::chrono::system_clock::time_point at) {
        return sgp30::loadBaseline(file, at);
    }

    std::shared_ptr<test::Sgp30Emulator> chip = std::make_shared<test::Sgp30Emulator>();
    std::shared_ptr<test::FakeClock> clock = std::make_shared<test::FakeClock>(kStart);
    Poco::TemporaryFile folder;
    std::string file = folder.path() + "/sgp30-air.json";
    std::optional<sgp30::Sgp30Monitor> monitor;
};

TEST_F(Sgp30Monitor, ReportsWarmingUpForTheFirstFifteenSecondsThenValues) {
    chip->setAirQuality(412, 3);
    start("");
    EXPECT_EQ(chip->commandsSent(kIaqInit), 1);
    EXPECT_EQ(monitor->read(), kWarmingUp);
    clock->runFor(14s);
    EXPECT_EQ(monitor->read(), kWarmingUp);
    clock->runFor(1s);
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 412, "tvoc_ppb": 3})");
}

TEST_F(Sgp30Monitor, MeasuresOncePerSecond) {
    start("");
    clock->runFor(60s);
    EXPECT_EQ(chip->commandsSent(kMeasureIaq), 61);  // at 0 s, then every second up to 60 s
    EXPECT_EQ(chip->commandsSent(kIaqInit), 1);
}

TEST_F(Sgp30Monitor, ReadReturnsTheLatestMeasurementWithoutTouchingTheChip) {
    start("");
    clock->runFor(20s);
    chip->setAirQuality(900, 120);
    const auto before = chip->writes().size();
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 400, "tvoc_ppb": 0})");
    EXPECT_EQ(chip->writes().size(), before);
    clock->runFor(1s);
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 900, "tvoc_ppb": 120})");
}

TEST_F(Sgp30Monitor, WrongCrcFromTheDeviceIsAReadErrorNamingCrcBusAndAddress) {
    start("");
    clock->runFor(20s);
    chip->corruptCrc(true);
    clock->runFor(1s);
    const std::string message = test::errorOf<plugin::ReadError>([&] { monitor->read(); });
    EXPECT_THAT(message, HasSubstr("CRC"));
    EXPECT_THAT(message, HasSubstr("/dev/i2c-emulated"));
    EXPECT_THAT(message, HasSubstr("0x58"));
}

TEST_F(Sgp30Monitor, BusFailureIsAReadErrorAndRecoveryStartsOverWithIaqInit) {
    start("");
    clock->runFor(20s);
    chip->failWith(EIO);
    clock->runFor(1s);
    const std::string message = test::errorOf<plugin::ReadError>([&] { monitor->read(); });
    EXPECT_THAT(message, HasSubstr("measure_iaq"));
    EXPECT_THAT(message, HasSubstr("/dev/i2c-emulated"));
    EXPECT_THAT(message, HasSubstr("0x58"));
    EXPECT_THAT(message, HasSubstr("EIO"));
    chip->failWith(0);
    clock->runFor(1s);
    EXPECT_EQ(chip->commandsSent(kIaqInit), 2);
    EXPECT_EQ(monitor->read(), kWarmingUp);
}

TEST_F(Sgp30Monitor, RestoresAYoungBaselineRightAfterIaqInitWithCorrectCrcs) {
    sgp30::saveBaseline(file, {0x8A11, 0x8B22}, kStart - 24h * 6);
    start(file);
    EXPECT_THAT(chip->baselinesSet(), ElementsAre(sgp30::Baseline{0x8A11, 0x8B22}));
    EXPECT_EQ(chip->badCrcsReceived(), 0);
    const auto writes = chip->writes();
    ASSERT_GE(writes.size(), 2U);
    EXPECT_EQ(writes[0], (std::vector<std::uint8_t>{0x20, 0x03}));
    EXPECT_EQ(writes[1][0] << 8 | writes[1][1], 0x201E);
}

TEST_F(Sgp30Monitor, IgnoresABaselineOlderThanSevenDays) {
    sgp30::saveBaseline(file, {0x8A11, 0x8B22}, kStart - 24h * 7 - 1s);
    start(file);
    clock->runFor(20s);
    EXPECT_THAT(chip->baselinesSet(), IsEmpty());
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 400, "tvoc_ppb": 0})");
}

TEST_F(Sgp30Monitor, IgnoresACorruptBaselineFile) {
    std::ofstream(file) << "{\"eco2\": ";
    start(file);
    clock->runFor(20s);
    EXPECT_THAT(chip->baselinesSet(), IsEmpty());
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 400, "tvoc_ppb": 0})");
}

TEST_F(Sgp30Monitor, SavesHourlyAfterARestoredBaseline) {
    sgp30::saveBaseline(file, {0x8A11, 0x8B22}, kStart - 1h);
    start(file);
    chip->setBaseline({0x9001, 0x9002});
    clock->runFor(59min);
    EXPECT_EQ(chip->commandsSent(kGetIaqBaseline), 0);
    EXPECT_EQ(stored(kStart), (sgp30::Baseline{0x8A11, 0x8B22}));
    clock->runFor(1min);
    EXPECT_EQ(chip->commandsSent(kGetIaqBaseline), 1);
    EXPECT_EQ(stored(kStart + 1h), (sgp30::Baseline{0x9001, 0x9002}));
    // Saved "now", so seven days after the save (not after the old file) it is too old.
    EXPECT_EQ(stored(kStart + 1h + 24h * 7 - 1s), (sgp30::Baseline{0x9001, 0x9002}));
    chip->setBaseline({0x9003, 0x9004});
    clock->runFor(1h);
    EXPECT_EQ(chip->commandsSent(kGetIaqBaseline), 2);
    EXPECT_EQ(stored(kStart + 2h), (sgp30::Baseline{0x9003, 0x9004}));
}

TEST_F(Sgp30Monitor, FreshBaselineIsFirstSavedAfterTwelveHours) {
    start(file);
    clock->runFor(12h - 1s);
    EXPECT_EQ(chip->commandsSent(kGetIaqBaseline), 0);
    EXPECT_FALSE(std::filesystem::exists(file));
    clock->runFor(1s);
    EXPECT_EQ(chip->commandsSent(kGetIaqBaseline), 1);
    EXPECT_EQ(stored(kStart + 12h), (sgp30::Baseline{0x8E68, 0x8F41}));
}

TEST_F(Sgp30Monitor, SavesTheBaselineAtDestructionOnceTrusted) {
    sgp30::saveBaseline(file, {0x8A11, 0x8B22}, kStart - 1h);
    start(file);
    clock->runFor(10min);
    chip->setBaseline({0x9005, 0x9006});
    monitor.reset();
    EXPECT_EQ(stored(kStart + 10min), (sgp30::Baseline{0x9005, 0x9006}));
}

TEST_F(Sgp30Monitor, DoesNotSaveAnUntrustedBaselineAtDestruction) {
    start(file);
    clock->runFor(1h);
    monitor.reset();
    EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(Sgp30Monitor, SaveFailureIsAReadErrorNamingTheFile) {
    sgp30::saveBaseline(file, {0x8A11, 0x8B22}, kStart - 1h);
    start(file);
    std::filesystem::remove_all(folder.path());
    clock->runFor(1h);
    const std::string message = test::errorOf<plugin::ReadError>([&] { monitor->read(); });
    EXPECT_THAT(message, HasSubstr(file));
    EXPECT_THAT(message, HasSubstr("ENOENT"));
    std::filesystem::create_directories(folder.path());
    clock->runFor(1min);
    EXPECT_EQ(monitor->read(), R"({"eco2_ppm": 400, "tvoc_ppb": 0})");
}

TEST_F(Sgp30Monitor, DestructionStopsTheThreadBeforeTheBusGoes) {
    start("");
    clock->runFor(5s);
    monitor.reset();
    EXPECT_FALSE(clock->sleeping());
    EXPECT_EQ(chip->transfersAfterDetach(), 0);
}

}  // namespace
