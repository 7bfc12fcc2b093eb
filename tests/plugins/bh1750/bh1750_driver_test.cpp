// The BH1750 driver against an emulated chip on the I2C seam: the opcodes it sends, the wait it
// asks for, lux from raw counts at several MTreg values, and bus failures.
#include "bh1750_driver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace sensorsys::bh1750;
using sensorsys::i2c::I2cError;
using sensorsys::i2c::I2cOperation;
using testing::ElementsAre;
using testing::HasSubstr;

// A BH1750 as its datasheet describes it: one-byte opcodes, MTreg latched from two of them, a
// one-time measurement whose 16-bit big-endian count is read as two bytes, and only then.
// Thread-safety: not thread-safe; used by one test at a time.
class EmulatedBh1750 final : public sensorsys::i2c::I2cBus {
  public:
    EmulatedBh1750(std::uint8_t address, std::uint16_t raw) : _address(address), _raw(raw) {}

    const std::string& path() const override { return _path; }

    void write(std::uint8_t address, std::span<const std::uint8_t> bytes) override {
        reach(address, I2cOperation::Write);
        if (bytes.size() != 1) throw std::logic_error("BH1750 takes one-byte opcodes");
        const std::uint8_t opcode = bytes[0];
        opcodes.push_back(opcode);
        if ((opcode & 0xe0) == 0x40) mtreg = (mtreg & 0x1f) | ((opcode & 0x07) << 5);
        if ((opcode & 0xe0) == 0x60) mtreg = (mtreg & 0xe0) | (opcode & 0x1f);
        if (opcode == 0x20) _converted = true;
    }

    void read(std::uint8_t address, std::span<std::uint8_t> in) override {
        reach(address, I2cOperation::Read);
        if (in.size() != 2 || !_converted) throw std::logic_error("read without a measurement");
        in[0] = static_cast<std::uint8_t>(_raw >> 8);
        in[1] = static_cast<std::uint8_t>(_raw & 0xff);
        _converted = false;  // one-time mode powers down after the result
    }

    void close() override { ++closes; }

    std::vector<std::uint8_t> opcodes;
    int mtreg = 69;  // the power-on value
    int closes = 0;
    bool present = true;

  private:
    void reach(std::uint8_t address, I2cOperation operation) {
        if (!present || address != _address) throw I2cError(operation, _path, address, ENXIO);
    }

    std::string _path = "/dev/i2c-1";
    std::uint8_t _address;
    std::uint16_t _raw;
    bool _converted = false;
};

// Records the waits instead of sleeping.
struct Waits {
    std::vector<std::chrono::milliseconds> seen;
    Bh1750Driver::Sleep sleep() {
        return [this](std::chrono::milliseconds d) { seen.push_back(d); };
    }
};

double measure(std::uint16_t raw, int mtreg) {
    EmulatedBh1750 chip(kAddressLow, raw);
    Waits waits;
    Bh1750Driver driver(chip, kAddressLow, mtreg, waits.sleep());
    return driver.measureLux();
}

TEST(Bh1750Driver, DefaultMtregSendsOnlyTheOneTimeHighResOpcode) {
    EmulatedBh1750 chip(kAddressLow, 375);
    Waits waits;
    Bh1750Driver driver(chip, kAddressLow, 69, waits.sleep());
    EXPECT_DOUBLE_EQ(driver.measureLux(), 312.5);
    EXPECT_THAT(chip.opcodes, ElementsAre(0x20));
    EXPECT_THAT(waits.seen, ElementsAre(std::chrono::milliseconds(180)));
}

TEST(Bh1750Driver, OtherMtregIsSetByItsTwoOpcodesBeforeMeasuring) {
    EmulatedBh1750 chip(kAddressLow, 1000);
    Waits waits;
    Bh1750Driver driver(chip, kAddressLow, 138, waits.sleep());
    EXPECT_DOUBLE_EQ(driver.measureLux(), 416.67);  // 1000 / 1.2 * 69 / 138
    EXPECT_THAT(chip.opcodes, ElementsAre(0x44, 0x6a, 0x20));
    EXPECT_EQ(chip.mtreg, 138);
    EXPECT_THAT(waits.seen, ElementsAre(std::chrono::milliseconds(360)));
}

TEST(Bh1750Driver, ExtremeMtregsReachTheChipAndScaleTheWait) {
    EmulatedBh1750 chip(kAddressHigh, 65535);
    Waits waits;
    Bh1750Driver low(chip, kAddressHigh, 31, waits.sleep());
    EXPECT_DOUBLE_EQ(low.measureLux(), 121556.85);  // 65535 / 1.2 * 69 / 31
    EXPECT_EQ(chip.mtreg, 31);
    Bh1750Driver high(chip, kAddressHigh, 254, waits.sleep());
    EXPECT_DOUBLE_EQ(high.measureLux(), 14835.68);  // 65535 / 1.2 * 69 / 254
    EXPECT_EQ(chip.mtreg, 254);
    // 180 ms * 31 / 69 = 80.9 and 180 ms * 254 / 69 = 662.6, rounded up.
    EXPECT_THAT(waits.seen,
                ElementsAre(std::chrono::milliseconds(81), std::chrono::milliseconds(663)));
}

TEST(Bh1750Driver, LuxForSeveralRawCounts) {
    EXPECT_DOUBLE_EQ(measure(0, 69), 0.0);
    EXPECT_DOUBLE_EQ(measure(1, 69), 0.83);
    EXPECT_DOUBLE_EQ(measure(12, 69), 10.0);
    EXPECT_DOUBLE_EQ(measure(54612, 69), 45510.0);
    EXPECT_DOUBLE_EQ(measure(100, 100), 57.5);  // 100 / 1.2 * 0.69
}

TEST(Bh1750Driver, MissingDeviceNamesBusAddressAndErrnoAndClosesTheBus) {
    EmulatedBh1750 chip(kAddressHigh, 1);  // answers at 0x5C only
    Waits waits;
    Bh1750Driver driver(chip, kAddressLow, 69, waits.sleep());
    try {
        driver.measureLux();
        FAIL() << "a read with no device at 0x23 succeeded";
    } catch (const I2cError& e) {
        EXPECT_STREQ(e.what(),
                     "no device at 0x23 on /dev/i2c-1 (ENXIO: No such device or address)");
    }
    EXPECT_EQ(chip.closes, 1);
    EXPECT_TRUE(waits.seen.empty());
}

TEST(Bh1750Driver, FormatsTheReading) {
    EXPECT_EQ(formatReading(312.5), R"({"lux": 312.5})");
    EXPECT_EQ(formatReading(0.0), R"({"lux": 0.0})");
}

TEST(Bh1750Driver, ConversionTimeFollowsTheDatasheetWorstCase) {
    EXPECT_EQ(conversionTime(69), std::chrono::milliseconds(180));
    EXPECT_EQ(conversionTime(31), std::chrono::milliseconds(81));
    EXPECT_EQ(conversionTime(254), std::chrono::milliseconds(663));
}

}  // namespace
