// The SGP30 command set against the emulated chip: CRC-8 as the datasheet defines it, replies
// decoded, CRCs checked on every received word and appended to every sent word.
#include "sgp30_driver.hpp"
#include "fake_clock.hpp"
#include "sgp30_emulator.hpp"

#include "error_of.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

namespace {

using namespace sensorsys;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Sgp30Driver : public ::testing::Test {
  protected:
    std::shared_ptr<test::Sgp30Emulator> chip = std::make_shared<test::Sgp30Emulator>();
    test::EmulatedBus bus{chip};
    test::FakeClock clock{std::chrono::system_clock::time_point{}};
    sgp30::Sgp30Driver driver{bus, clock};
};

TEST(Sgp30Crc, MatchesTheDatasheetExample) {
    // Sensirion SGP30 datasheet, "Checksum Calculation": 0xBEEF -> 0x92.
    EXPECT_EQ(sgp30::crc8(0xBEEF), 0x92);
    const std::uint8_t word[] = {0xBE, 0xEF};
    EXPECT_EQ(test::sensirionCrc(word), 0x92);
}

TEST(Sgp30Crc, AgreesWithTheEmulatorsIndependentCrcOnEveryWord) {
    for (std::uint32_t word = 0; word <= 0xFFFF; ++word) {
        const std::uint8_t bytes[] = {static_cast<std::uint8_t>(word >> 8),
                                      static_cast<std::uint8_t>(word & 0xFF)};
        ASSERT_EQ(sgp30::crc8(static_cast<std::uint16_t>(word)), test::sensirionCrc(bytes)) << word;
    }
}

TEST_F(Sgp30Driver, SendsIaqInitAsItsTwoCommandBytes) {
    driver.iaqInit();
    EXPECT_THAT(chip->writes(), ElementsAre(std::vector<std::uint8_t>{0x20, 0x03}));
}

TEST_F(Sgp30Driver, MeasureIaqDecodesBothWords) {
    chip->setAirQuality(1234, 56);
    const sgp30::AirQuality quality = driver.measureIaq();
    EXPECT_EQ(quality.eco2Ppm, 1234);
    EXPECT_EQ(quality.tvocPpb, 56);
    EXPECT_THAT(chip->writes(), ElementsAre(std::vector<std::uint8_t>{0x20, 0x08}));
}

TEST_F(Sgp30Driver, WrongCrcIsAnErrorNamingCrcBusAndAddress) {
    chip->corruptCrc(true);
    const std::string message = test::errorOf<plugin::ReadError>([&] { driver.measureIaq(); });
    EXPECT_THAT(message, HasSubstr("CRC"));
    EXPECT_THAT(message, HasSubstr("measure_iaq"));
    EXPECT_THAT(message, HasSubstr("0x58"));
    EXPECT_THAT(message, HasSubstr("/dev/i2c-emulated"));
}

TEST_F(Sgp30Driver, GetBaselineReturnsEco2ThenTvoc) {
    chip->setBaseline({0x1111, 0x2222});
    EXPECT_EQ(driver.getBaseline(), (sgp30::Baseline{0x1111, 0x2222}));
}

TEST_F(Sgp30Driver, SetBaselineSendsTvocThenEco2EachWithItsCrc) {
    driver.setBaseline({0xBEEF, 0x1234});
    const std::uint8_t tvoc[] = {0x12, 0x34};
    EXPECT_THAT(chip->writes(),
                ElementsAre(std::vector<std::uint8_t>{0x20, 0x1E, 0x12, 0x34,
                                                      test::sensirionCrc(tvoc), 0xBE, 0xEF, 0x92}));
    EXPECT_EQ(chip->badCrcsReceived(), 0);
    EXPECT_THAT(chip->baselinesSet(), ElementsAre(sgp30::Baseline{0xBEEF, 0x1234}));
}

TEST_F(Sgp30Driver, BusFailureNamesTheCommandBusAddressAndErrno) {
    chip->failWith(EREMOTEIO);
    const std::string message = test::errorOf<plugin::ReadError>([&] { driver.measureIaq(); });
    EXPECT_THAT(message, HasSubstr("measure_iaq"));
    EXPECT_THAT(message, HasSubstr("0x58"));
    EXPECT_THAT(message, HasSubstr("/dev/i2c-emulated"));
    EXPECT_THAT(message, HasSubstr("EREMOTEIO"));
}

}  // namespace
