// ROHM BH1750 ambient light sensor on an I2cBus: one-time high-resolution measurements with a
// configurable measurement time (MTreg), turned into lux.
#pragma once

#include <sensorsys/i2c_bus.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace sensorsys::bh1750 {

inline constexpr std::uint8_t kAddressLow = 0x23;   // ADDR pin low or open (the default)
inline constexpr std::uint8_t kAddressHigh = 0x5c;  // ADDR pin high
inline constexpr int kDefaultMtreg = 69;
inline constexpr int kMinMtreg = 31;
inline constexpr int kMaxMtreg = 254;

// Opcodes (datasheet: "Instruction Set Architecture").
inline constexpr std::uint8_t kOneTimeHighRes = 0x20;
inline constexpr std::uint8_t kMtregHigh = 0x40;  // | MTreg bits 7..5
inline constexpr std::uint8_t kMtregLow = 0x60;   // | MTreg bits 4..0

// The datasheet's worst-case conversion time for `mtreg`: 180 ms at the default 69, scaling
// linearly, rounded up to the next millisecond.
std::chrono::milliseconds conversionTime(int mtreg);

// Lux from a raw count: raw / 1.2 * (69 / mtreg), rounded to 2 decimals.
double luxFromRaw(std::uint16_t raw, int mtreg);

// The plugin's payload: {"lux": 312.5}.
std::string formatReading(double lux);

// One BH1750 at a fixed address. Blocks for the conversion time (at most about 663 ms, at
// MTreg 254), well within the agent's read deadline.
// Thread-safety: not thread-safe; one owner, like the bus it uses.
class Bh1750Driver {
  public:
    using Sleep = std::function<void(std::chrono::milliseconds)>;
    static void realSleep(std::chrono::milliseconds duration);

    // `mtreg` must be within kMinMtreg..kMaxMtreg (checked by the configuration).
    Bh1750Driver(i2c::I2cBus& bus, std::uint8_t address, int mtreg, Sleep sleep = realSleep);

    // Takes one measurement. Throws plugin::ReadError (i2c::I2cError for bus failures, which
    // name the bus, the address and the errno); the bus is closed after a failure so the next
    // read reopens it.
    double measureLux();

  private:
    std::uint16_t measureRaw();

    i2c::I2cBus& _bus;
    std::uint8_t _address;
    int _mtreg;
    Sleep _sleep;
};

}  // namespace sensorsys::bh1750
