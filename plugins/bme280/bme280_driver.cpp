#include "bme280_driver.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace sensorsys::bme280 {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t kRegCalibration1 = 0x88;
constexpr std::uint8_t kRegChipId = 0xD0;
constexpr std::uint8_t kRegReset = 0xE0;
constexpr std::uint8_t kRegCalibration2 = 0xE1;
constexpr std::uint8_t kRegCtrlHum = 0xF2;
constexpr std::uint8_t kRegStatus = 0xF3;
constexpr std::uint8_t kRegCtrlMeas = 0xF4;
constexpr std::uint8_t kRegData = 0xF7;

constexpr std::uint8_t kResetCommand = 0xB6;
constexpr std::uint8_t kStatusMeasuring = 0x08;
constexpr std::uint8_t kStatusImUpdate = 0x01;

// Oversampling x1 for every channel, IIR filter off, forced mode: the datasheet's "weather
// monitoring" setting (section 3.5.1). A reading every few seconds gains nothing from more
// oversampling, and the shortest conversion keeps self-heating lowest.
constexpr unsigned kOversampling = 1;  // osrs_* code 0b001
constexpr std::uint8_t kCtrlHum = kOversampling;
constexpr std::uint8_t kForcedMode = 0b01;
constexpr std::uint8_t kCtrlMeas = (kOversampling << 5) | (kOversampling << 2) | kForcedMode;

// Datasheet appendix 9.1: t_measure,max = 1.25 + 2.3*osrs_t + (2.3*osrs_p + 0.575)
// [+ (2.3*osrs_h + 0.575)] ms, which is 9.3 ms (BME280) or 6.425 ms (BMP280) at x1.
constexpr std::chrono::microseconds measurementTime(Chip chip) {
    const auto pressure_and_temperature =
        1250us + kOversampling * 2300us + (kOversampling * 2300us + 575us);
    return chip == Chip::Bme280 ? pressure_and_temperature + (kOversampling * 2300us + 575us)
                                : pressure_and_temperature;
}

constexpr std::chrono::microseconds kStartupTime = 2ms;  // datasheet t_startup after reset
constexpr std::chrono::microseconds kPollInterval = 1ms;
// Status polls after the nominal wait; generous for a slow clock, bounded for a stuck chip.
constexpr int kMaxPolls = 10;

// What the temperature and pressure registers hold when no conversion ran (datasheet 5.4.7,
// 5.4.8). Either alone is also a valid reading at x1 oversampling, so only both together count.
constexpr std::int32_t kNotMeasured = 0x80000;

std::uint16_t u16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}

std::int16_t s16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return static_cast<std::int16_t>(u16(bytes, at));
}

std::int32_t u20(std::span<const std::uint8_t> bytes, std::size_t at) {
    return (bytes[at] << 12) | (bytes[at + 1] << 4) | (bytes[at + 2] >> 4);
}

}  // namespace

std::string_view chipName(Chip chip) {
    return chip == Chip::Bme280 ? "BME280" : "BMP280";
}

std::optional<Chip> chipFromId(std::uint8_t id) {
    if (id == 0x60) return Chip::Bme280;
    // 0x56 and 0x57 are BMP280 samples still found on cheap boards (Bosch's BMP280 API
    // accepts them too); 0x58 is the production part.
    if (id == 0x56 || id == 0x57 || id == 0x58) return Chip::Bmp280;
    return std::nullopt;
}

Calibration parseCalibration(std::span<const std::uint8_t, kCalibrationBlock1Size> block1,
                             std::span<const std::uint8_t, kCalibrationBlock2Size> block2) {
    Calibration c;
    c.t1 = u16(block1, 0);
    c.t2 = s16(block1, 2);
    c.t3 = s16(block1, 4);
    c.p1 = u16(block1, 6);
    c.p2 = s16(block1, 8);
    c.p3 = s16(block1, 10);
    c.p4 = s16(block1, 12);
    c.p5 = s16(block1, 14);
    c.p6 = s16(block1, 16);
    c.p7 = s16(block1, 18);
    c.p8 = s16(block1, 20);
    c.p9 = s16(block1, 22);
    // block1[24] is 0xA0, reserved.
    c.h1 = block1[25];
    c.h2 = s16(block2, 0);
    c.h3 = block2[2];
    // H4 = 0xE4 (signed high 8 bits) and the low nibble of 0xE5; H5 = 0xE6 (signed high 8 bits)
    // and the high nibble of 0xE5. Multiplying keeps the sign of the high byte.
    const auto e4 = static_cast<std::int8_t>(block2[3]);
    const auto e6 = static_cast<std::int8_t>(block2[5]);
    c.h4 = static_cast<std::int16_t>(e4 * 16 + (block2[4] & 0x0F));
    c.h5 = static_cast<std::int16_t>(e6 * 16 + (block2[4] >> 4));
    c.h6 = static_cast<std::int8_t>(block2[6]);
    return c;
}

RawSample parseSample(std::span<const std::uint8_t> data) {
    if (data.size() != 6 && data.size() != 8) {
        throw std::invalid_argument("a BME280 sample is 6 or 8 bytes, got " +
                                    std::to_string(data.size()));
    }
    RawSample raw;
    raw.pressure = u20(data, 0);
    raw.temperature = u20(data, 3);
    if (data.size() == 8) raw.humidity = (data[6] << 8) | data[7];
    return raw;
}

Measurement compensate(const Calibration& c, const RawSample& raw) {
    Measurement m;

    const double adc_t = raw.temperature;
    const double t_a = adc_t / 16384.0 - c.t1 / 1024.0;
    const double t_b = adc_t / 131072.0 - c.t1 / 8192.0;
    const double t_sum = t_a * c.t2 + t_b * t_b * c.t3;
    // The datasheet keeps t_fine as an integer; truncating the same way keeps pressure and
    // humidity identical to Bosch's reference results.
    const double t_fine = static_cast<std::int32_t>(t_sum);
    m.temperatureC = t_sum / 5120.0;

    double var1 = t_fine / 2.0 - 64000.0;
    double var2 = var1 * var1 * c.p6 / 32768.0;
    var2 = var2 + var1 * c.p5 * 2.0;
    var2 = var2 / 4.0 + c.p4 * 65536.0;
    var1 = (c.p3 * var1 * var1 / 524288.0 + c.p2 * var1) / 524288.0;
    var1 = (1.0 + var1 / 32768.0) * c.p1;
    if (var1 == 0.0) {
        throw plugin::ReadError("calibration makes pressure compensation divide by zero");
    }
    double p = 1048576.0 - raw.pressure;
    p = (p - var2 / 4096.0) * 6250.0 / var1;
    var1 = c.p9 * p * p / 2147483648.0;
    var2 = p * c.p8 / 32768.0;
    m.pressurePa = p + (var1 + var2 + c.p7) / 16.0;

    if (raw.humidity) {
        double h = t_fine - 76800.0;
        h = (*raw.humidity - (c.h4 * 64.0 + c.h5 / 16384.0 * h)) *
            (c.h2 / 65536.0 * (1.0 + c.h6 / 67108864.0 * h * (1.0 + c.h3 / 67108864.0 * h)));
        h = h * (1.0 - c.h1 * h / 524288.0);
        m.humidityRh = std::clamp(h, 0.0, 100.0);
    }
    return m;
}

void realSleep(std::chrono::microseconds duration) {
    std::this_thread::sleep_for(duration);
}

Bme280Driver::Bme280Driver(I2cBus& bus, std::vector<std::uint8_t> addresses, Sleep sleep)
    : _bus(bus), _addresses(std::move(addresses)), _sleep(std::move(sleep)) {
    if (_addresses.empty()) throw std::invalid_argument("Bme280Driver needs an address to try");
}

std::optional<std::uint8_t> Bme280Driver::address() const {
    return _device ? std::optional(_device->address) : std::nullopt;
}

std::optional<Chip> Bme280Driver::chip() const {
    return _device ? std::optional(_device->chip) : std::nullopt;
}

Measurement Bme280Driver::measure() {
    try {
        if (!_device) _device = connect();
        return sample(*_device);
    } catch (...) {
        _device.reset();
        _bus.close();
        throw;
    }
}

Bme280Driver::Device Bme280Driver::connect() {
    Device device = detect();
    softReset(device);
    device.calibration = readCalibration(device);
    return device;
}

Bme280Driver::Device Bme280Driver::detect() {
    const bool single = _addresses.size() == 1;
    std::string problems;     // one clause per address, for the error when none fits
    std::string absentCause;  // errno text while every address was silent
    bool allAbsent = true;
    for (const std::uint8_t address : _addresses) {
        std::uint8_t id = 0;
        try {
            id = readRegister(address, kRegChipId);
        } catch (const I2cError& e) {
            // A bus that cannot be opened fails the same way at every address.
            if (single || e.operation() == I2cOperation::Open) throw;
            if (e.noDevice()) {
                absentCause = plugin::errnoText(e.code());
            } else {
                allAbsent = false;
            }
            problems += (problems.empty() ? "" : "; ") + std::string(e.what());
            continue;
        }
        if (const auto chip = chipFromId(id)) return Device{address, *chip, {}};
        const std::string text = "unexpected chip id " + hexByte(id) + " at " + hexByte(address) +
                                 " on " + _bus.path() + " (a BME280 reports 0x60, a BMP280 0x58)";
        if (single) throw plugin::ReadError(text);
        allAbsent = false;
        problems += (problems.empty() ? "" : "; ") + text;
    }
    if (allAbsent) {
        std::string tried;
        for (const std::uint8_t address : _addresses) {
            tried += (tried.empty() ? "" : " or ") + hexByte(address);
        }
        throw plugin::ReadError("no device at " + tried + " on " + _bus.path() + " (" +
                                absentCause + ")");
    }
    throw plugin::ReadError("no BME280 or BMP280 found on " + _bus.path() + ": " + problems);
}

void Bme280Driver::softReset(const Device& device) {
    // A reset puts the chip into a known state whatever another program configured before.
    _bus.writeRegister(device.address, kRegReset, kResetCommand);
    _sleep(kStartupTime);
    for (int poll = 0;; ++poll) {
        const std::uint8_t status = readRegister(device.address, kRegStatus);
        if ((status & kStatusImUpdate) == 0) return;
        if (poll == kMaxPolls) {
            throw plugin::ReadError(where(device) +
                                    " is still copying its calibration after a reset (status " +
                                    hexByte(status) + ")");
        }
        _sleep(kPollInterval);
    }
}

Calibration Bme280Driver::readCalibration(const Device& device) {
    std::array<std::uint8_t, kCalibrationBlock1Size> block1{};
    std::array<std::uint8_t, kCalibrationBlock2Size> block2{};
    _bus.readRegisters(device.address, kRegCalibration1, block1);
    if (device.chip == Chip::Bme280) _bus.readRegisters(device.address, kRegCalibration2, block2);
    const Calibration calibration = parseCalibration(block1, block2);
    // Zero here means the trim memory was not (or wrongly) read; every part has both set.
    if (calibration.t1 == 0 || calibration.p1 == 0) {
        throw plugin::ReadError(where(device) + " returned implausible calibration (dig_T1 = " +
                                std::to_string(calibration.t1) +
                                ", dig_P1 = " + std::to_string(calibration.p1) + ")");
    }
    return calibration;
}

Measurement Bme280Driver::sample(const Device& device) {
    // ctrl_hum only takes effect with the next ctrl_meas write, so it goes first. Both are
    // written on every read so a chip that browned out and reset itself is set up again.
    if (device.chip == Chip::Bme280) _bus.writeRegister(device.address, kRegCtrlHum, kCtrlHum);
    _bus.writeRegister(device.address, kRegCtrlMeas, kCtrlMeas);
    _sleep(measurementTime(device.chip));
    for (int poll = 0;; ++poll) {
        const std::uint8_t status = readRegister(device.address, kRegStatus);
        if ((status & kStatusMeasuring) == 0) break;
        if (poll == kMaxPolls) {
            throw plugin::ReadError(where(device) + " did not finish its measurement (status " +
                                    hexByte(status) + ")");
        }
        _sleep(kPollInterval);
    }

    // One burst read: the chip then serves every channel from the same conversion (datasheet
    // section 4, data readout).
    std::array<std::uint8_t, 8> data{};
    const std::size_t length = device.chip == Chip::Bme280 ? 8 : 6;
    const std::span<std::uint8_t> bytes(data.data(), length);
    _bus.readRegisters(device.address, kRegData, bytes);
    const RawSample raw = parseSample(bytes);

    if (raw.temperature == kNotMeasured && raw.pressure == kNotMeasured) {
        throw plugin::ReadError(where(device) + " returned no data: the measurement did not run");
    }
    try {
        return compensate(device.calibration, raw);
    } catch (const plugin::ReadError& e) {
        throw plugin::ReadError(where(device) + ": " + e.what());
    }
}

std::uint8_t Bme280Driver::readRegister(std::uint8_t address, std::uint8_t reg) {
    std::array<std::uint8_t, 1> value{};
    _bus.readRegisters(address, reg, value);
    return value[0];
}

std::string Bme280Driver::where(const Device& device) const {
    return std::string(chipName(device.chip)) + " at " + hexByte(device.address) + " on " +
           _bus.path();
}

}  // namespace sensorsys::bme280
