// The Sensirion SGP30 command set (iaq_init, measure_iaq, get/set_iaq_baseline) over an
// i2c::I2cBus, with the CRC-8 Sensirion puts after every 16-bit word in both directions.
// Thread-safety: not thread-safe; the sensor thread (and destroy, after joining it) owns it.
#pragma once

#include <sensorsys/i2c_bus.hpp>
#include <sensorsys/linux_i2c_bus.hpp>
#include "clock.hpp"

#include <sensorsys/plugin_support.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace sensorsys::sgp30 {

using i2c::I2cError;
using i2c::I2cOperation;

inline constexpr std::uint8_t kAddress = 0x58;

// The chip's compensation state; restoring it spares the 12 h of self-calibration.
struct Baseline {
    std::uint16_t eco2 = 0;
    std::uint16_t tvoc = 0;
    bool operator==(const Baseline&) const = default;
};

struct AirQuality {
    std::uint16_t eco2Ppm = 0;
    std::uint16_t tvocPpb = 0;
};

// Sensirion's CRC-8 of one word (polynomial 0x31, init 0xFF): 0xBEEF gives 0x92.
std::uint8_t crc8(std::uint16_t word);

class Sgp30Driver {
  public:
    Sgp30Driver(i2c::I2cBus& bus, Clock& clock);

    // Every call throws plugin::ReadError naming the command, the bus and the address.
    void iaqInit();
    AirQuality measureIaq();
    Baseline getBaseline();
    void setBaseline(const Baseline& baseline);

    // After a failure: the next command opens the bus afresh.
    void reset() { _bus.close(); }

  private:
    void send(const char* name, std::uint16_t command, std::span<const std::uint16_t> words);
    std::array<std::uint16_t, 2> receive(const char* name, std::chrono::milliseconds wait);

    i2c::I2cBus& _bus;
    Clock& _clock;
};

}  // namespace sensorsys::sgp30
