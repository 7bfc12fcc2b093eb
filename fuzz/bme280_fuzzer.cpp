// Fuzz target: the BME280 driver's calibration and measurement path, from raw register bytes to
// the plugin's JSON, run through the real Bme280Driver on a bus whose chip the input describes.
//
// Input layout (missing bytes read as 0):
//     [0]       chip id register (0xD0): 0x60 BME280, 0x56..0x58 BMP280, anything else refused
//     [1..26]   calibration block 1 (0x88..0xA1)
//     [27..33]  calibration block 2 (0xE1..0xE7)
//     [34..41]  data registers (0xF7..0xFE) a forced measurement yields
//     [42..]    one control byte per bus transfer, in order: bit 7 fails the transfer (bit 0
//               picks ENXIO, "no device", or EIO), bits 0 and 3 are the status register's
//               im_update and measuring bits when the transfer reads it
//
// Checked: no crash or undefined behaviour; a read either throws plugin::ReadError or returns
// a measurement whose JSON the agent accepts, with humidity only from a BME280 and within
// 0..100 %RH; a failed read leaves the driver able to try again. The pure steps
// (parseCalibration, parseSample, compensate, formatReading) also run on the bytes directly,
// without the driver's plausibility checks in front.
#include "bme280_driver.hpp"
#include "bme280_output.hpp"
#include "fuzz_check.hpp"
#include "plugin_output.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

namespace {

using namespace sensorsys::bme280;
using sensorsys::fuzz::fail;
using sensorsys::fuzz::require;

constexpr std::size_t kChipIdAt = 0;
constexpr std::size_t kBlock1At = 1;
constexpr std::size_t kBlock2At = kBlock1At + kCalibrationBlock1Size;
constexpr std::size_t kDataAt = kBlock2At + kCalibrationBlock2Size;
constexpr std::size_t kControlAt = kDataAt + 8;

// A chip whose registers come from the input. Reset, ctrl and config writes are accepted and
// have no effect: the data registers always hold the input's measurement.
// Thread-safety: not thread-safe (one harness run).
class FuzzBus final : public I2cBus {
  public:
    explicit FuzzBus(std::span<const std::uint8_t> input) : _input(input) {
        _registers[0xD0] = byte(kChipIdAt);
        for (std::size_t i = 0; i < kCalibrationBlock1Size; ++i)
            _registers[0x88 + i] = byte(kBlock1At + i);
        for (std::size_t i = 0; i < kCalibrationBlock2Size; ++i)
            _registers[0xE1 + i] = byte(kBlock2At + i);
        for (std::size_t i = 0; i < 8; ++i) _registers[0xF7 + i] = byte(kDataAt + i);
    }

    const std::string& path() const override { return _path; }

    void readRegisters(std::uint8_t address, std::uint8_t first,
                       std::span<std::uint8_t> out) override {
        const std::uint8_t control = transfer(I2cOperation::Read, address);
        for (std::size_t i = 0; i < out.size(); ++i) {
            const auto reg = static_cast<std::uint8_t>(first + i);
            out[i] =
                reg == kRegStatus ? static_cast<std::uint8_t>(control & 0x09) : _registers[reg];
        }
    }

    void writeRegister(std::uint8_t address, std::uint8_t, std::uint8_t) override {
        transfer(I2cOperation::Write, address);
    }

    // The driver only uses register transfers; plain ones would be a driver bug.
    void write(std::uint8_t, std::span<const std::uint8_t>) override { std::abort(); }
    void read(std::uint8_t, std::span<std::uint8_t>) override { std::abort(); }

    void close() override {}

  private:
    static constexpr std::uint8_t kRegStatus = 0xF3;

    std::uint8_t byte(std::size_t at) const { return at < _input.size() ? _input[at] : 0; }

    std::uint8_t transfer(I2cOperation operation, std::uint8_t address) {
        const std::uint8_t control = byte(kControlAt + _transfers++);
        if (control & 0x80) throw I2cError(operation, _path, address, control & 1 ? ENXIO : EIO);
        return control;
    }

    std::span<const std::uint8_t> _input;
    std::array<std::uint8_t, 256> _registers{};
    std::size_t _transfers = 0;
    std::string _path = "/dev/i2c-fuzz";
};

void checkMeasurement(const Measurement& m, bool humidityExpected) {
    require(m.humidityRh.has_value() == humidityExpected, "humidity presence does not match");
    if (m.humidityRh) {
        require(*m.humidityRh >= 0.0 && *m.humidityRh <= 100.0, "humidity outside 0..100");
    }
    std::string json;
    try {
        json = formatReading(m);
    } catch (const sensorsys::plugin::ReadError&) {
        return;  // a non-finite value, refused by name
    }
    try {
        require(sensorsys::agent::validatePluginOutput(json) == json, "output not kept", json);
    } catch (const sensorsys::agent::PluginOutputError& e) {
        fail(std::string("the agent refuses the bme280 output: ") + e.what(), json);
    }
}

std::array<std::uint8_t, 8> dataBytes(std::span<const std::uint8_t> input) {
    std::array<std::uint8_t, 8> data{};
    for (std::size_t i = 0; i < data.size() && kDataAt + i < input.size(); ++i)
        data[i] = input[kDataAt + i];
    return data;
}

void runPureSteps(std::span<const std::uint8_t> input) {
    std::array<std::uint8_t, kCalibrationBlock1Size> block1{};
    std::array<std::uint8_t, kCalibrationBlock2Size> block2{};
    for (std::size_t i = 0; i < block1.size() && kBlock1At + i < input.size(); ++i)
        block1[i] = input[kBlock1At + i];
    for (std::size_t i = 0; i < block2.size() && kBlock2At + i < input.size(); ++i)
        block2[i] = input[kBlock2At + i];
    const Calibration calibration = parseCalibration(block1, block2);
    const auto data = dataBytes(input);
    for (const std::size_t length : {std::size_t{6}, std::size_t{8}}) {
        const RawSample raw = parseSample(std::span<const std::uint8_t>(data.data(), length));
        require(raw.temperature >= 0 && raw.temperature < (1 << 20), "temperature not 20 bit");
        require(raw.pressure >= 0 && raw.pressure < (1 << 20), "pressure not 20 bit");
        try {
            checkMeasurement(compensate(calibration, raw), length == 8);
        } catch (const sensorsys::plugin::ReadError&) {
            // Calibration that would divide by zero, refused by name.
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    runPureSteps(input);

    FuzzBus bus(input);
    Bme280Driver driver(bus, {0x76, 0x77}, [](std::chrono::microseconds) {});
    // Three reads: the first connects, a failure forgets the device, the next ones recover.
    for (int read = 0; read < 3; ++read) {
        try {
            const Measurement m = driver.measure();
            require(driver.chip().has_value() && driver.address().has_value(),
                    "a successful read does not say what it talked to");
            checkMeasurement(m, *driver.chip() == Chip::Bme280);
        } catch (const sensorsys::plugin::ReadError&) {
            require(!driver.chip() && !driver.address(), "a failed read keeps the device");
        }
    }
    return 0;
}
