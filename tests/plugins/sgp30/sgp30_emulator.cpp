#include "sgp30_emulator.hpp"

#include <cerrno>

namespace sensorsys::test {

std::uint8_t sensirionCrc(std::span<const std::uint8_t> bytes) {
    unsigned crc = 0xFF;
    for (const std::uint8_t byte : bytes) {
        for (int bit = 7; bit >= 0; --bit) {
            const unsigned top = ((crc >> 7) ^ (byte >> bit)) & 1U;
            crc = ((crc << 1) & 0xFFU) ^ (top ? 0x31U : 0U);
        }
    }
    return static_cast<std::uint8_t>(crc);
}

void Sgp30Emulator::setAirQuality(std::uint16_t eco2, std::uint16_t tvoc) {
    std::lock_guard lock(_mutex);
    _eco2 = eco2;
    _tvoc = tvoc;
}

void Sgp30Emulator::setBaseline(sgp30::Baseline baseline) {
    std::lock_guard lock(_mutex);
    _baseline = baseline;
}

void Sgp30Emulator::corruptCrc(bool corrupt) {
    std::lock_guard lock(_mutex);
    _corrupt = corrupt;
}

void Sgp30Emulator::failWith(int code) {
    std::lock_guard lock(_mutex);
    _failure = code;
}

std::vector<std::vector<std::uint8_t>> Sgp30Emulator::writes() {
    std::lock_guard lock(_mutex);
    return _writes;
}

int Sgp30Emulator::commandsSent(std::uint16_t command) {
    std::lock_guard lock(_mutex);
    int count = 0;
    for (const auto& message : _writes) {
        if (message.size() >= 2 && (message[0] << 8 | message[1]) == command) ++count;
    }
    return count;
}

std::vector<sgp30::Baseline> Sgp30Emulator::baselinesSet() {
    std::lock_guard lock(_mutex);
    return _baselinesSet;
}

int Sgp30Emulator::badCrcsReceived() {
    std::lock_guard lock(_mutex);
    return _badCrcs;
}

int Sgp30Emulator::transfersAfterDetach() {
    std::lock_guard lock(_mutex);
    return _afterDetach;
}

void Sgp30Emulator::detach() {
    std::lock_guard lock(_mutex);
    _detached = true;
}

void Sgp30Emulator::check(const std::string& bus, i2c::I2cOperation operation) {
    if (_detached) ++_afterDetach;
    if (_failure != 0) throw i2c::I2cError(operation, bus, sgp30::kAddress, _failure);
}

void Sgp30Emulator::write(std::span<const std::uint8_t> bytes, const std::string& bus) {
    std::lock_guard lock(_mutex);
    check(bus, i2c::I2cOperation::Write);
    _writes.emplace_back(bytes.begin(), bytes.end());
    if (bytes.size() < 2) throw i2c::I2cError(i2c::I2cOperation::Write, bus, 0x58, EIO);
    _pending = static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
    if (_pending == 0x201E && bytes.size() == 8) {
        if (sensirionCrc(bytes.subspan(2, 2)) != bytes[4] ||
            sensirionCrc(bytes.subspan(5, 2)) != bytes[7]) {
            ++_badCrcs;  // the chip ignores such a command
            return;
        }
        // TVOC first, then eCO2 (the reverse of get_iaq_baseline's reply).
        const auto tvoc = static_cast<std::uint16_t>(bytes[2] << 8 | bytes[3]);
        const auto eco2 = static_cast<std::uint16_t>(bytes[5] << 8 | bytes[6]);
        _baselinesSet.push_back({eco2, tvoc});
        _baseline = {eco2, tvoc};
    }
}

void Sgp30Emulator::putWord(std::span<std::uint8_t> out, std::size_t index, std::uint16_t word) {
    out[3 * index] = static_cast<std::uint8_t>(word >> 8);
    out[3 * index + 1] = static_cast<std::uint8_t>(word & 0xFF);
    out[3 * index + 2] = sensirionCrc(out.subspan(3 * index, 2));
}

void Sgp30Emulator::read(std::span<std::uint8_t> out, const std::string& bus) {
    std::lock_guard lock(_mutex);
    check(bus, i2c::I2cOperation::Read);
    const std::uint16_t command = std::exchange(_pending, 0);
    if (out.size() != 6 || (command != 0x2008 && command != 0x2015)) {
        throw i2c::I2cError(i2c::I2cOperation::Read, bus, sgp30::kAddress, EIO);
    }
    putWord(out, 0, command == 0x2008 ? _eco2 : _baseline.eco2);
    putWord(out, 1, command == 0x2008 ? _tvoc : _baseline.tvoc);
    if (_corrupt) out[5] ^= 0x01;
}

EmulatedBus::EmulatedBus(std::shared_ptr<Sgp30Emulator> chip, std::string path)
    : _chip(std::move(chip)), _path(std::move(path)) {}

void EmulatedBus::write(std::uint8_t address, std::span<const std::uint8_t> bytes) {
    if (address != sgp30::kAddress)
        throw i2c::I2cError(i2c::I2cOperation::Write, _path, address, ENXIO);
    _chip->write(bytes, _path);
}

void EmulatedBus::read(std::uint8_t address, std::span<std::uint8_t> out) {
    if (address != sgp30::kAddress)
        throw i2c::I2cError(i2c::I2cOperation::Read, _path, address, ENXIO);
    _chip->read(out, _path);
}

}  // namespace sensorsys::test
