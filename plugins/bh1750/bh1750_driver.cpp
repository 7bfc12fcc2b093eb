#include "bh1750_driver.hpp"

#include <sensorsys/plugin_support.hpp>

#include <array>
#include <thread>
#include <utility>

namespace sensorsys::bh1750 {

std::chrono::milliseconds conversionTime(int mtreg) {
    constexpr int kDefaultMs = 180;
    return std::chrono::milliseconds((kDefaultMs * mtreg + kDefaultMtreg - 1) / kDefaultMtreg);
}

double luxFromRaw(std::uint16_t raw, int mtreg) {
    return plugin::round(raw / 1.2 * (static_cast<double>(kDefaultMtreg) / mtreg), 2);
}

std::string formatReading(double lux) {
    return "{\"lux\": " + plugin::jsonNumber(lux) + "}";
}

void Bh1750Driver::realSleep(std::chrono::milliseconds duration) {
    std::this_thread::sleep_for(duration);
}

Bh1750Driver::Bh1750Driver(i2c::I2cBus& bus, std::uint8_t address, int mtreg, Sleep sleep)
    : _bus(bus), _address(address), _mtreg(mtreg), _sleep(std::move(sleep)) {}

double Bh1750Driver::measureLux() {
    try {
        return luxFromRaw(measureRaw(), _mtreg);
    } catch (const plugin::ReadError&) {
        // A re-plugged adapter is a new device node: reopen it on the next read.
        _bus.close();
        throw;
    }
}

std::uint16_t Bh1750Driver::measureRaw() {
    const auto send = [&](std::uint8_t opcode) {
        const std::array<std::uint8_t, 1> message{opcode};
        _bus.write(_address, message);
    };
    // The chip keeps MTreg until power-off; the default needs no command.
    if (_mtreg != kDefaultMtreg) {
        send(static_cast<std::uint8_t>(kMtregHigh | (_mtreg >> 5)));
        send(static_cast<std::uint8_t>(kMtregLow | (_mtreg & 0x1f)));
    }
    send(kOneTimeHighRes);
    _sleep(conversionTime(_mtreg));
    std::array<std::uint8_t, 2> data{};
    _bus.read(_address, data);
    return static_cast<std::uint16_t>((data[0] << 8) | data[1]);
}

}  // namespace sensorsys::bh1750
