#include "sgp30_driver.hpp"

#include <cstdio>
#include <vector>

namespace sensorsys::sgp30 {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kIaqInit = 0x2003;
constexpr std::uint16_t kMeasureIaq = 0x2008;
constexpr std::uint16_t kGetIaqBaseline = 0x2015;
constexpr std::uint16_t kSetIaqBaseline = 0x201E;

// The datasheet's maximum execution times.
constexpr auto kInitTime = 10ms;
constexpr auto kMeasureTime = 12ms;
constexpr auto kBaselineTime = 10ms;

std::string where(const i2c::I2cBus& bus) {
    return "device " + i2c::hexByte(kAddress) + " on " + bus.path();
}

}  // namespace

std::uint8_t crc8(std::uint16_t word) {
    std::uint8_t crc = 0xFF;
    for (const std::uint8_t byte :
         {static_cast<std::uint8_t>(word >> 8), static_cast<std::uint8_t>(word & 0xFF)}) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x80) ? static_cast<std::uint8_t>((crc << 1) ^ 0x31)
                               : static_cast<std::uint8_t>(crc << 1);
        }
    }
    return crc;
}

Sgp30Driver::Sgp30Driver(i2c::I2cBus& bus, Clock& clock) : _bus(bus), _clock(clock) {}

void Sgp30Driver::send(const char* name, std::uint16_t command,
                       std::span<const std::uint16_t> words) {
    std::vector<std::uint8_t> message = {static_cast<std::uint8_t>(command >> 8),
                                         static_cast<std::uint8_t>(command & 0xFF)};
    for (const std::uint16_t word : words) {
        message.push_back(static_cast<std::uint8_t>(word >> 8));
        message.push_back(static_cast<std::uint8_t>(word & 0xFF));
        message.push_back(crc8(word));
    }
    try {
        _bus.write(kAddress, message);
    } catch (const I2cError& e) {
        throw plugin::ReadError(std::string("SGP30 ") + name + ": " + e.what());
    }
}

std::array<std::uint16_t, 2> Sgp30Driver::receive(const char* name,
                                                  std::chrono::milliseconds wait) {
    _clock.pause(wait);
    std::array<std::uint8_t, 6> bytes{};
    try {
        _bus.read(kAddress, bytes);
    } catch (const I2cError& e) {
        throw plugin::ReadError(std::string("SGP30 ") + name + ": " + e.what());
    }
    std::array<std::uint16_t, 2> words{};
    for (std::size_t i = 0; i < words.size(); ++i) {
        const auto word = static_cast<std::uint16_t>(bytes[3 * i] << 8 | bytes[3 * i + 1]);
        const std::uint8_t expected = crc8(word);
        if (bytes[3 * i + 2] != expected) {
            char detail[64];
            std::snprintf(detail, sizeof detail, " (word %zu: CRC 0x%02X, expected 0x%02X)", i + 1,
                          static_cast<unsigned>(bytes[3 * i + 2]), static_cast<unsigned>(expected));
            throw plugin::ReadError(std::string("SGP30 ") + name + ": CRC mismatch in reply from " +
                                    where(_bus) + detail);
        }
        words[i] = word;
    }
    return words;
}

void Sgp30Driver::iaqInit() {
    send("iaq_init", kIaqInit, {});
    _clock.pause(kInitTime);
}

AirQuality Sgp30Driver::measureIaq() {
    send("measure_iaq", kMeasureIaq, {});
    const auto words = receive("measure_iaq", kMeasureTime);
    return {words[0], words[1]};
}

Baseline Sgp30Driver::getBaseline() {
    send("get_iaq_baseline", kGetIaqBaseline, {});
    const auto words = receive("get_iaq_baseline", kBaselineTime);
    return {words[0], words[1]};
}

void Sgp30Driver::setBaseline(const Baseline& baseline) {
    // The chip takes the words in the reverse order of get_iaq_baseline: TVOC first (as
    // Sensirion's own driver sends them).
    const std::array<std::uint16_t, 2> words = {baseline.tvoc, baseline.eco2};
    send("set_iaq_baseline", kSetIaqBaseline, words);
    _clock.pause(kBaselineTime);
}

}  // namespace sensorsys::sgp30
