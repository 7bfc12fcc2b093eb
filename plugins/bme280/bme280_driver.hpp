// Bosch BME280 (and its humidity-less sibling BMP280) on an I2cBus: detection, soft reset,
// calibration, one forced-mode measurement per read, and the datasheet's compensation.
#pragma once

#include <sensorsys/i2c_bus.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sensorsys::bme280 {

// The shared I2C seam (plugins/common) is this driver's vocabulary.
using i2c::hexByte;
using i2c::I2cBus;
using i2c::I2cError;
using i2c::I2cOperation;

enum class Chip { Bmp280, Bme280 };

std::string_view chipName(Chip chip);

// The chip a chip-id register value (0xD0) denotes, if it is one this driver supports.
std::optional<Chip> chipFromId(std::uint8_t id);

inline constexpr std::size_t kCalibrationBlock1Size = 26;  // 0x88..0xA1 (0xA1 is dig_H1)
inline constexpr std::size_t kCalibrationBlock2Size = 7;   // 0xE1..0xE7, BME280 only

// The factory trim values, named as in the datasheet (dig_T1 -> t1, ...).
struct Calibration {
    std::uint16_t t1 = 0;
    std::int16_t t2 = 0;
    std::int16_t t3 = 0;
    std::uint16_t p1 = 0;
    std::int16_t p2 = 0;
    std::int16_t p3 = 0;
    std::int16_t p4 = 0;
    std::int16_t p5 = 0;
    std::int16_t p6 = 0;
    std::int16_t p7 = 0;
    std::int16_t p8 = 0;
    std::int16_t p9 = 0;
    std::uint8_t h1 = 0;
    std::int16_t h2 = 0;
    std::uint8_t h3 = 0;
    std::int16_t h4 = 0;  // signed 12 bit
    std::int16_t h5 = 0;  // signed 12 bit
    std::int8_t h6 = 0;

    bool operator==(const Calibration&) const = default;
};

// Decodes the two calibration blocks as the chip stores them (little-endian words, H4/H5
// packed as two 12-bit values over 0xE4..0xE6).
Calibration parseCalibration(std::span<const std::uint8_t, kCalibrationBlock1Size> block1,
                             std::span<const std::uint8_t, kCalibrationBlock2Size> block2);

// The uncompensated ADC values of one measurement (0xF7..0xFC, plus 0xFD..0xFE on a BME280).
struct RawSample {
    std::int32_t temperature = 0;          // 20 bit
    std::int32_t pressure = 0;             // 20 bit
    std::optional<std::int32_t> humidity;  // 16 bit, BME280 only
};

// Decodes a burst read starting at 0xF7: 6 bytes (no humidity) or 8 bytes.
RawSample parseSample(std::span<const std::uint8_t> data);

// One compensated reading before any rounding for output.
struct Measurement {
    double temperatureC = 0;
    double pressurePa = 0;
    std::optional<double> humidityRh;  // absent on a BMP280
};

// The datasheet's double-precision compensation (BME280 datasheet section 8.1), with t_fine
// truncated to an integer as there, so results match Bosch's reference code. Humidity is
// clamped to 0..100 %RH. Throws plugin::ReadError for calibration that would divide by zero.
Measurement compensate(const Calibration& calibration, const RawSample& raw);

// Lets tests run the driver without waiting; production passes realSleep.
using Sleep = std::function<void(std::chrono::microseconds)>;
void realSleep(std::chrono::microseconds duration);

// Drives one sensor on a bus. The first measure() finds the chip (trying `addresses` in order),
// resets it and caches its calibration; a failed measure() forgets all of that and closes the
// bus, so the next call starts from scratch and a re-plugged sensor or adapter recovers.
// Thread-safety: not thread-safe; one thread at a time (the bus is shared state).
class Bme280Driver {
  public:
    Bme280Driver(I2cBus& bus, std::vector<std::uint8_t> addresses, Sleep sleep = realSleep);

    // Takes one forced-mode measurement. Throws plugin::ReadError (I2cError for bus failures)
    // naming the bus, the address and the cause.
    Measurement measure();

    // What the last successful measure() talked to; empty before it or after a failure.
    std::optional<std::uint8_t> address() const;
    std::optional<Chip> chip() const;

  private:
    struct Device {
        std::uint8_t address;
        Chip chip;
        Calibration calibration;
    };

    Device connect();
    Device detect();
    void softReset(const Device& device);
    Calibration readCalibration(const Device& device);
    Measurement sample(const Device& device);
    std::uint8_t readRegister(std::uint8_t address, std::uint8_t reg);
    std::string where(const Device& device) const;

    I2cBus& _bus;
    std::vector<std::uint8_t> _addresses;
    Sleep _sleep;
    std::optional<Device> _device;
};

}  // namespace sensorsys::bme280
