// The BME280 driver against a register-level fake of the chip, fed with every vector of
// tests/data/bme280_vectors.json, plus its error and recovery paths.
#include "bme280_driver.hpp"
#include "bme280_output.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace {

using namespace sensorsys::bme280;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Test vectors

struct Vector {
    std::string id;
    std::uint8_t chipId = 0;
    std::array<std::uint8_t, kCalibrationBlock1Size> calibration1{};
    std::array<std::uint8_t, kCalibrationBlock2Size> calibration2{};
    std::array<std::uint8_t, 8> data{};
    std::map<std::string, long> dig;  // the published dig_* values
    std::optional<double> temperature;
    std::optional<double> pressure;
    std::optional<double> humidity;
    // Bosch's double-precision datasheet formulas, as computed by the vectors' author.
    std::optional<double> referenceTemperature;
    std::optional<double> referencePressure;
    std::optional<double> referenceHumidity;
};

void PrintTo(const Vector& vector, std::ostream* out) {
    *out << vector.id;
}

template <std::size_t N>
std::array<std::uint8_t, N> parseBytes(const std::string& text, const std::string& what) {
    std::istringstream in(text);
    std::array<std::uint8_t, N> bytes{};
    std::size_t count = 0;
    std::string token;
    while (in >> token) {
        if (count == N) break;
        bytes[count++] = static_cast<std::uint8_t>(std::stoul(token, nullptr, 16));
    }
    if (count != N || (in >> token)) {
        throw std::runtime_error(what + " must hold " + std::to_string(N) + " bytes: " + text);
    }
    return bytes;
}

std::optional<double> optionalNumber(const Poco::JSON::Object::Ptr& object,
                                     const std::string& key) {
    if (!object || !object->has(key) || object->isNull(key)) return std::nullopt;
    return object->getValue<double>(key);
}

std::vector<Vector> loadVectors() {
    std::ifstream file(SENSORSYS_TEST_DATA_DIR "/bme280_vectors.json");
    if (!file) throw std::runtime_error("cannot open bme280_vectors.json");
    std::stringstream text;
    text << file.rdbuf();
    Poco::JSON::Parser parser;
    const auto array = parser.parse(text.str()).extract<Poco::JSON::Array::Ptr>();

    std::vector<Vector> vectors;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto item = array->getObject(static_cast<unsigned>(i));
        Vector v;
        v.id = item->getValue<std::string>("id");
        v.chipId = static_cast<std::uint8_t>(
            std::stoul(item->getValue<std::string>("chip_id"), nullptr, 16));
        const auto calib = item->getObject("calib_registers");
        v.calibration1 =
            parseBytes<kCalibrationBlock1Size>(calib->getValue<std::string>("0x88..0xA1"), v.id);
        v.calibration2 =
            parseBytes<kCalibrationBlock2Size>(calib->getValue<std::string>("0xE1..0xE7"), v.id);
        v.data = parseBytes<8>(
            item->getObject("data_registers")->getValue<std::string>("0xF7..0xFE"), v.id);
        const auto dig = item->getObject("calib");
        for (const auto& [key, value] : *dig) v.dig[key] = value.convert<long>();
        const auto expected = item->getObject("expected");
        v.temperature = optionalNumber(expected, "temperature_c");
        v.pressure = optionalNumber(expected, "pressure_pa");
        v.humidity = optionalNumber(expected, "humidity_rh");
        const auto references = item->getObject("reference_outputs");
        const auto reference = references ? references->getObject("double_datasheet") : nullptr;
        v.referenceTemperature = optionalNumber(reference, "temperature_c");
        v.referencePressure = optionalNumber(reference, "pressure_pa");
        v.referenceHumidity = optionalNumber(reference, "humidity_rh");
        vectors.push_back(std::move(v));
    }
    return vectors;
}

const std::vector<Vector>& vectors() {
    static const std::vector<Vector> all = loadVectors();
    return all;
}

// ---------------------------------------------------------------------------------------------
// The fake chip

constexpr std::uint8_t kRegStatus = 0xF3;

// A BME280/BMP280 as the driver sees it over I2C: a register map with the chip id and
// calibration of a vector, a soft reset that restores power-on values, a forced-mode write that
// "converts" (moves the vector's data into 0xF7.. for the channels whose oversampling is on,
// using ctrl_hum only as latched by that ctrl_meas write), status bits for both, a record of
// every transfer, and injectable failures.
// Thread-safety: not thread-safe; used by one test at a time.
class FakeBus final : public I2cBus {
  public:
    struct Write {
        std::uint8_t address;
        std::uint8_t reg;
        std::uint8_t value;
        bool operator==(const Write&) const = default;
    };
    struct Read {
        std::uint8_t address;
        std::uint8_t first;
        std::size_t length;
    };
    struct Chip {
        std::array<std::uint8_t, 256> registers{};
        std::array<std::uint8_t, 8> conversion{};  // what a forced measurement yields
        bool humidity = true;
        bool ignoresForcedMode = false;
        int nvmBusyReads = 0;    // status reads showing im_update after a reset; -1: forever
        int measuringReads = 0;  // status reads showing "measuring" after a forced write
        int pendingNvm = 0;
        int pendingMeasuring = 0;
    };
    struct Failure {
        I2cOperation operation;
        int code;
    };

    explicit FakeBus(std::string path = "/dev/i2c-1") : _path(std::move(path)) {}

    static Chip chipFrom(const Vector& v) {
        Chip chip;
        chip.registers[0xD0] = v.chipId;
        std::copy(v.calibration1.begin(), v.calibration1.end(), chip.registers.begin() + 0x88);
        std::copy(v.calibration2.begin(), v.calibration2.end(), chip.registers.begin() + 0xE1);
        chip.conversion = v.data;
        chip.humidity = v.chipId == 0x60;
        powerOn(chip);
        return chip;
    }

    static Chip chipWithId(std::uint8_t id) {
        Chip chip = chipFrom(vectors().at(1));
        chip.registers[0xD0] = id;
        return chip;
    }

    Chip& add(std::uint8_t address, Chip chip) { return _chips[address] = std::move(chip); }
    void remove(std::uint8_t address) { _chips.erase(address); }
    // The errno a transfer to an empty address gets (ENXIO from most adapters, EREMOTEIO
    // from some, e.g. the Raspberry Pi's).
    void setNoDeviceErrno(int code) { _noDevice = code; }
    void failBus(int code) { _busFailure = code; }
    void failAddress(std::uint8_t address, I2cOperation operation, int code) {
        _failures[address] = Failure{operation, code};
    }

    const std::vector<Write>& writes() const { return _writes; }
    const std::vector<Read>& reads() const { return _reads; }
    int closes() const { return _closes; }
    std::size_t readsOf(std::uint8_t first) const {
        return static_cast<std::size_t>(std::count_if(
            _reads.begin(), _reads.end(), [&](const Read& r) { return r.first == first; }));
    }
    std::size_t writesOf(std::uint8_t reg) const {
        return static_cast<std::size_t>(std::count_if(
            _writes.begin(), _writes.end(), [&](const Write& w) { return w.reg == reg; }));
    }

    const std::string& path() const override { return _path; }

    void readRegisters(std::uint8_t address, std::uint8_t first,
                       std::span<std::uint8_t> out) override {
        Chip& chip = reach(address);
        _reads.push_back(Read{address, first, out.size()});
        for (std::size_t i = 0; i < out.size(); ++i) {
            const auto reg = static_cast<std::uint8_t>(first + i);
            out[i] = reg == kRegStatus ? status(chip) : chip.registers[reg];
        }
    }

    void writeRegister(std::uint8_t address, std::uint8_t reg, std::uint8_t value) override {
        Chip& chip = reach(address);
        _writes.push_back(Write{address, reg, value});
        if (reg == 0xE0 && value == 0xB6) {
            powerOn(chip);
            chip.pendingNvm = chip.nvmBusyReads;
        } else if (reg == 0xF2 && chip.humidity) {
            chip.registers[reg] = value;
        } else if (reg == 0xF4) {
            chip.registers[reg] = value;
            const int mode = value & 0x03;
            if ((mode == 1 || mode == 2) && !chip.ignoresForcedMode) convert(chip, value);
        } else if (reg == 0xF5) {
            chip.registers[reg] = value;
        }
    }

    // The driver only uses register transfers; a plain one would be a driver bug.
    void write(std::uint8_t, std::span<const std::uint8_t>) override {
        throw std::logic_error("BME280 driver sent a plain write");
    }
    void read(std::uint8_t, std::span<std::uint8_t>) override {
        throw std::logic_error("BME280 driver did a plain read");
    }

    void close() override { ++_closes; }

  private:
    static void powerOn(Chip& chip) {
        for (int reg = 0xF2; reg <= 0xF5; ++reg) chip.registers[reg] = 0;
        const std::array<std::uint8_t, 8> unmeasured = {0x80, 0, 0, 0x80, 0, 0, 0x80, 0};
        std::copy(unmeasured.begin(), unmeasured.end(), chip.registers.begin() + 0xF7);
        chip.pendingNvm = 0;
        chip.pendingMeasuring = 0;
    }

    static void convert(Chip& chip, std::uint8_t ctrlMeas) {
        const bool temperature = (ctrlMeas >> 5) != 0;
        const bool pressure = ((ctrlMeas >> 2) & 0x07) != 0;
        const bool humidity = chip.humidity && (chip.registers[0xF2] & 0x07) != 0;
        auto* data = chip.registers.data() + 0xF7;
        if (pressure) std::copy_n(chip.conversion.begin(), 3, data);
        if (temperature) std::copy_n(chip.conversion.begin() + 3, 3, data + 3);
        if (humidity) std::copy_n(chip.conversion.begin() + 6, 2, data + 6);
        chip.pendingMeasuring = chip.measuringReads;
        chip.registers[0xF4] &= 0xFC;  // back to sleep mode after one conversion
    }

    static std::uint8_t status(Chip& chip) {
        std::uint8_t value = 0;
        if (chip.pendingNvm != 0) {
            value |= 0x01;
            if (chip.pendingNvm > 0) --chip.pendingNvm;
        }
        if (chip.pendingMeasuring != 0) {
            value |= 0x08;
            if (chip.pendingMeasuring > 0) --chip.pendingMeasuring;
        }
        return value;
    }

    Chip& reach(std::uint8_t address) {
        if (_busFailure) throw I2cError(I2cOperation::Open, _path, address, *_busFailure);
        if (const auto failure = _failures.find(address); failure != _failures.end()) {
            throw I2cError(failure->second.operation, _path, address, failure->second.code);
        }
        const auto chip = _chips.find(address);
        // i2c-dev reports a missing device when the register-pointer write is not acknowledged.
        if (chip == _chips.end()) throw I2cError(I2cOperation::Write, _path, address, _noDevice);
        return chip->second;
    }

    std::string _path;
    std::map<std::uint8_t, Chip> _chips;
    std::map<std::uint8_t, Failure> _failures;
    std::optional<int> _busFailure;
    int _noDevice = ENXIO;
    std::vector<Write> _writes;
    std::vector<Read> _reads;
    int _closes = 0;
};

// Records the driver's waits instead of sleeping.
struct SleepLog {
    std::vector<std::chrono::microseconds> waits;
    Sleep sleeper() {
        return [this](std::chrono::microseconds d) { waits.push_back(d); };
    }
};

constexpr std::uint8_t kAt76 = 0x76;
constexpr std::uint8_t kAt77 = 0x77;
const std::vector<std::uint8_t> kAuto = {kAt77, kAt76};

const Vector& bme280Vector() {
    return vectors().at(1);  // periph_i2c_bme280, a real BME280 dump
}

std::string errorOf(Bme280Driver& driver) {
    try {
        driver.measure();
    } catch (const sensorsys::plugin::ReadError& e) {
        return e.what();
    }
    ADD_FAILURE() << "measure() did not fail";
    return {};
}

// The error of the first read from this chip alone at 0x76 on /dev/i2c-1.
std::string errorOfChip(const FakeBus::Chip& chip) {
    FakeBus bus;
    bus.add(kAt76, chip);
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    return errorOf(driver);
}

// "-12.34": optional minus, digits, a point, exactly two digits.
bool isTwoDecimalNumber(const std::string& text) {
    const std::size_t digits = text.starts_with('-') ? 1 : 0;
    const std::size_t point = text.find('.');
    if (point == std::string::npos || point == digits || text.size() != point + 3) return false;
    const auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(digits),
                       text.begin() + static_cast<std::ptrdiff_t>(point), isDigit) &&
           isDigit(text[point + 1]) && isDigit(text[point + 2]);
}

// ---------------------------------------------------------------------------------------------
// Per vector

class Bme280VectorTest : public ::testing::TestWithParam<Vector> {};

TEST_P(Bme280VectorTest, MatchesExpected) {
    const Vector& v = GetParam();
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(v));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());

    const Measurement m = driver.measure();

    if (v.temperature) {
        EXPECT_NEAR(m.temperatureC, *v.temperature, 0.02);
    }
    if (v.pressure) {
        EXPECT_NEAR(m.pressurePa, *v.pressure, 8.0);
    }
    if (v.humidity) {
        ASSERT_TRUE(m.humidityRh.has_value());
        EXPECT_NEAR(*m.humidityRh, *v.humidity, 0.02);
    }
    EXPECT_EQ(driver.chip(), chipFromId(v.chipId));
    EXPECT_EQ(m.humidityRh.has_value(), v.chipId == 0x60) << "BMP280 has no humidity";
}

TEST_P(Bme280VectorTest, MatchesBoschDoubleReference) {
    // Tighter than MatchesExpected: the datasheet formulas, evaluated the same way, agree to
    // rounding noise. Catches a swapped term that the loose tolerances would let through.
    const Vector& v = GetParam();
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(v));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    const Measurement m = driver.measure();
    ASSERT_TRUE(v.referenceTemperature && v.referencePressure);
    EXPECT_NEAR(m.temperatureC, *v.referenceTemperature, 1e-9);
    EXPECT_NEAR(m.pressurePa, *v.referencePressure, 1e-6);
    if (v.referenceHumidity && m.humidityRh) {
        EXPECT_NEAR(*m.humidityRh, *v.referenceHumidity, 1e-9);
    }
}

TEST_P(Bme280VectorTest, DecodesPublishedCalibration) {
    const Vector& v = GetParam();
    const Calibration c = parseCalibration(v.calibration1, v.calibration2);
    const std::map<std::string, long> decoded = {
        {"dig_T1", c.t1}, {"dig_T2", c.t2}, {"dig_T3", c.t3}, {"dig_P1", c.p1}, {"dig_P2", c.p2},
        {"dig_P3", c.p3}, {"dig_P4", c.p4}, {"dig_P5", c.p5}, {"dig_P6", c.p6}, {"dig_P7", c.p7},
        {"dig_P8", c.p8}, {"dig_P9", c.p9}, {"dig_H1", c.h1}, {"dig_H2", c.h2}, {"dig_H3", c.h3},
        {"dig_H4", c.h4}, {"dig_H5", c.h5}, {"dig_H6", c.h6}};
    EXPECT_EQ(decoded, v.dig);
}

TEST_P(Bme280VectorTest, ResetsThenMeasuresInForcedMode) {
    const Vector& v = GetParam();
    const bool bme = v.chipId == 0x60;
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(v));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    driver.measure();

    const auto& writes = bus.writes();
    ASSERT_FALSE(writes.empty());
    EXPECT_EQ(writes.front(), (FakeBus::Write{kAt76, 0xE0, 0xB6})) << "soft reset first";
    const auto meas = std::find_if(writes.begin(), writes.end(),
                                   [](const FakeBus::Write& w) { return w.reg == 0xF4; });
    ASSERT_NE(meas, writes.end());
    EXPECT_EQ(meas->value & 0x03, 0x01) << "forced mode";
    EXPECT_NE(meas->value >> 5, 0) << "temperature enabled";
    EXPECT_NE((meas->value >> 2) & 0x07, 0) << "pressure enabled";
    const auto hum = std::find_if(writes.begin(), writes.end(),
                                  [](const FakeBus::Write& w) { return w.reg == 0xF2; });
    if (bme) {
        ASSERT_NE(hum, writes.end());
        EXPECT_LT(hum, meas) << "ctrl_hum must precede ctrl_meas";
        EXPECT_NE(hum->value & 0x07, 0) << "humidity enabled";
    } else {
        EXPECT_EQ(hum, writes.end()) << "a BMP280 has no ctrl_hum";
    }
    // The data is read in one burst after the wait.
    ASSERT_EQ(bus.readsOf(0xF7), 1u);
    EXPECT_EQ(bus.reads().back().first, 0xF7);
    EXPECT_EQ(bus.reads().back().length, bme ? 8u : 6u);
    ASSERT_FALSE(sleep.waits.empty());
    EXPECT_GE(sleep.waits.back(), std::chrono::microseconds(bme ? 9300 : 6425))
        << "waits the datasheet's maximum measurement time";
}

TEST_P(Bme280VectorTest, OutputHasContractShape) {
    const Vector& v = GetParam();
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(v));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    const Measurement m = driver.measure();
    const std::string json = formatReading(m);

    Poco::JSON::Parser parser;
    const auto root = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    auto keys = [](const Poco::JSON::Object::Ptr& o) {
        std::set<std::string> names;
        for (const auto& [key, value] : *o) names.insert(key);
        return names;
    };
    const bool bme = v.chipId == 0x60;
    const std::set<std::string> top =
        bme ? std::set<std::string>{"temperature", "pressure", "humidity"}
            : std::set<std::string>{"temperature", "pressure"};
    EXPECT_EQ(keys(root), top);
    EXPECT_EQ(keys(root->getObject("temperature")), (std::set<std::string>{"c", "f"}));
    EXPECT_EQ(keys(root->getObject("pressure")), (std::set<std::string>{"hpa"}));
    const double c = root->getObject("temperature")->getValue<double>("c");
    EXPECT_NEAR(c, m.temperatureC, 0.005 + 1e-9);
    EXPECT_NEAR(root->getObject("temperature")->getValue<double>("f"), m.temperatureC * 1.8 + 32,
                0.005 + 1e-9);
    EXPECT_NEAR(root->getObject("pressure")->getValue<double>("hpa"), m.pressurePa / 100,
                0.005 + 1e-9);
    if (bme) {
        EXPECT_EQ(keys(root->getObject("humidity")), (std::set<std::string>{"rh"}));
        EXPECT_NEAR(root->getObject("humidity")->getValue<double>("rh"), *m.humidityRh,
                    0.005 + 1e-9);
    }
    // Every number has exactly two decimals: no float noise such as 21.530000000000001.
    // (std::regex is avoided: GCC 12 warns inside it under -fsanitize, and -Werror is on.)
    std::size_t numbers = 0;
    for (std::size_t colon = json.find(": "); colon != std::string::npos;
         colon = json.find(": ", colon + 1)) {
        const std::size_t start = colon + 2;
        if (json[start] == '{') continue;
        const std::size_t end = json.find_first_of(",}", start);
        EXPECT_TRUE(isTwoDecimalNumber(json.substr(start, end - start))) << json;
        ++numbers;
    }
    EXPECT_EQ(numbers, bme ? 4u : 3u);
}

INSTANTIATE_TEST_SUITE_P(bme280, Bme280VectorTest, ::testing::ValuesIn(vectors()),
                         [](const ::testing::TestParamInfo<Vector>& info) {
                             return info.param.id;
                         });

TEST(Bme280Vectors, FileHoldsNineVectors) {
    EXPECT_EQ(vectors().size(), 9u);
}

// ---------------------------------------------------------------------------------------------
// Bus errors, one per errno

struct BusErrorCase {
    const char* name;  // errno name, also the test name
    int code;
    // How the fake produces it: a missing device, a claimed address or an unusable bus.
    enum { Absent, Select, Open } how;
    const char* expectedStart;
};

void PrintTo(const BusErrorCase& c, std::ostream* out) {
    *out << c.name;
}

class Bme280BusErrorTest : public ::testing::TestWithParam<BusErrorCase> {};

TEST_P(Bme280BusErrorTest, MessageNamesBusAddressAndCause) {
    const BusErrorCase& c = GetParam();
    FakeBus bus;
    switch (c.how) {
        case BusErrorCase::Absent:
            bus.setNoDeviceErrno(c.code);
            break;
        case BusErrorCase::Select:
            bus.add(kAt77, FakeBus::chipFrom(bme280Vector()));
            bus.failAddress(kAt77, I2cOperation::SelectDevice, c.code);
            break;
        case BusErrorCase::Open:
            bus.failBus(c.code);
            break;
    }
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt77}, sleep.sleeper());
    const std::string message = errorOf(driver);
    EXPECT_THAT(message, StartsWith(c.expectedStart));
    EXPECT_THAT(message, HasSubstr("0x77"));
    EXPECT_THAT(message, HasSubstr("/dev/i2c-1"));
    EXPECT_THAT(message, HasSubstr(std::string(c.name) + ": "));
}

INSTANTIATE_TEST_SUITE_P(
    bme280, Bme280BusErrorTest,
    ::testing::Values(
        BusErrorCase{"ENXIO", ENXIO, BusErrorCase::Absent, "no device at 0x77 on /dev/i2c-1 ("},
        BusErrorCase{"EREMOTEIO", EREMOTEIO, BusErrorCase::Absent,
                     "no device at 0x77 on /dev/i2c-1 ("},
        BusErrorCase{"EBUSY", EBUSY, BusErrorCase::Select,
                     "cannot address device 0x77 on /dev/i2c-1"},
        BusErrorCase{"EACCES", EACCES, BusErrorCase::Open, "cannot open I2C bus /dev/i2c-1"},
        BusErrorCase{"ENOENT", ENOENT, BusErrorCase::Open, "cannot open I2C bus /dev/i2c-1"}),
    [](const ::testing::TestParamInfo<BusErrorCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Chip identification and address selection

TEST(Bme280Driver, RejectsChipIdZero) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipWithId(0x00));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    EXPECT_EQ(errorOf(driver),
              "unexpected chip id 0x00 at 0x76 on /dev/i2c-1 (a BME280 reports 0x60, a BMP280 "
              "0x58)");
    EXPECT_TRUE(bus.writes().empty()) << "nothing is written to an unknown chip";
}

TEST(Bme280Driver, RejectsChipIdFF) {
    FakeBus bus;
    bus.add(kAt77, FakeBus::chipWithId(0xFF));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt77}, sleep.sleeper());
    EXPECT_THAT(errorOf(driver), StartsWith("unexpected chip id 0xFF at 0x77 on /dev/i2c-1"));
}

TEST(Bme280Driver, AcceptsBmp280SampleChipIds) {
    for (const std::uint8_t id : {0x56, 0x57, 0x58}) {
        EXPECT_EQ(chipFromId(id), Chip::Bmp280) << hexByte(id);
    }
    EXPECT_EQ(chipFromId(0x60), Chip::Bme280);
    EXPECT_EQ(chipFromId(0x55), std::nullopt) << "BMP180";
}

TEST(Bme280Driver, AutoTries77Then76) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    const Measurement m = driver.measure();
    EXPECT_NEAR(m.temperatureC, 23.72, 0.02);
    EXPECT_EQ(driver.address(), kAt76);
    // Only the chip at 0x76 was read, after nothing answered at 0x77.
    for (const auto& read : bus.reads()) EXPECT_EQ(read.address, kAt76);
    for (const auto& write : bus.writes()) EXPECT_EQ(write.address, kAt76);
}

TEST(Bme280Driver, AutoPrefers77) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(vectors().at(2)));
    bus.add(kAt77, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    EXPECT_NEAR(driver.measure().temperatureC, 23.72, 0.02);
    EXPECT_EQ(driver.address(), kAt77);
    EXPECT_EQ(bus.reads().front().address, kAt77);
}

TEST(Bme280Driver, AutoWithNothingNamesBothAddresses) {
    FakeBus bus;
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    EXPECT_EQ(errorOf(driver),
              "no device at 0x77 or 0x76 on /dev/i2c-1 (ENXIO: No such device or address)");
}

TEST(Bme280Driver, AutoSkipsAForeignChip) {
    FakeBus bus;
    bus.add(kAt77, FakeBus::chipWithId(0x55));  // a BMP180 lives at 0x77 too
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    driver.measure();
    EXPECT_EQ(driver.address(), kAt76);
}

TEST(Bme280Driver, AutoReportsWhatEachAddressHad) {
    FakeBus bus;
    bus.add(kAt77, FakeBus::chipWithId(0x55));
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    const std::string message = errorOf(driver);
    EXPECT_THAT(message, StartsWith("no BME280 or BMP280 found on /dev/i2c-1: "));
    EXPECT_THAT(message, HasSubstr("unexpected chip id 0x55 at 0x77"));
    EXPECT_THAT(message, HasSubstr("no device at 0x76 on /dev/i2c-1 (ENXIO"));
}

TEST(Bme280Driver, AutoStopsAtAnUnusableBus) {
    FakeBus bus;
    bus.failBus(ENOENT);
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    EXPECT_THAT(errorOf(driver), StartsWith("cannot open I2C bus /dev/i2c-1 for device 0x77: "
                                            "ENOENT: No such file or directory"));
}

TEST(Bme280Driver, AutoTriesNextAddressWhenOneIsClaimed) {
    FakeBus bus;
    bus.failAddress(kAt77, I2cOperation::SelectDevice, EBUSY);
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, kAuto, sleep.sleeper());
    driver.measure();
    EXPECT_EQ(driver.address(), kAt76);
}

// ---------------------------------------------------------------------------------------------
// Caching, recovery, waiting

TEST(Bme280Driver, ReadsCalibrationOncePerConnection) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    const Measurement first = driver.measure();
    const Measurement second = driver.measure();
    EXPECT_EQ(first.temperatureC, second.temperatureC);
    EXPECT_EQ(bus.writesOf(0xE0), 1u);
    EXPECT_EQ(bus.readsOf(0x88), 1u);
    EXPECT_EQ(bus.readsOf(0xE1), 1u);
    EXPECT_EQ(bus.writesOf(0xF4), 2u) << "one forced measurement per read";
}

TEST(Bme280Driver, RecoversAfterTheSensorComesBack) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector()));
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    driver.measure();

    bus.remove(kAt76);
    EXPECT_EQ(errorOf(driver),
              "no device at 0x76 on /dev/i2c-1 (ENXIO: No such device or address)");
    EXPECT_EQ(driver.address(), std::nullopt);
    EXPECT_EQ(bus.closes(), 1) << "the bus handle is dropped so a new adapter node is opened";

    // Another sensor is plugged in: it must be reset and its own calibration used.
    bus.add(kAt76, FakeBus::chipFrom(vectors().at(2)));
    const Measurement m = driver.measure();
    EXPECT_NEAR(m.temperatureC, 62.68, 0.02);
    EXPECT_EQ(bus.writesOf(0xE0), 2u);
    EXPECT_EQ(bus.readsOf(0x88), 2u);
}

TEST(Bme280Driver, PollsStatusUntilTheMeasurementEnds) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector())).measuringReads = 3;
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    EXPECT_NEAR(driver.measure().temperatureC, 23.72, 0.02);
    // reset wait, measurement wait, then three short polls
    ASSERT_EQ(sleep.waits.size(), 5u);
    EXPECT_EQ(sleep.waits[1], std::chrono::microseconds(9300));
}

TEST(Bme280Driver, GivesUpOnAMeasurementThatNeverEnds) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector())).measuringReads = -1;
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    EXPECT_EQ(errorOf(driver),
              "BME280 at 0x76 on /dev/i2c-1 did not finish its measurement (status 0x08)");
    EXPECT_LE(bus.readsOf(kRegStatus), 20u);
    EXPECT_EQ(bus.readsOf(0xF7), 0u);
}

TEST(Bme280Driver, WaitsForTheCalibrationCopyAfterReset) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector())).nvmBusyReads = 2;
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    driver.measure();
    EXPECT_EQ(sleep.waits.front(), std::chrono::microseconds(2000));
}

TEST(Bme280Driver, GivesUpOnACalibrationCopyThatNeverEnds) {
    FakeBus bus;
    bus.add(kAt76, FakeBus::chipFrom(bme280Vector())).nvmBusyReads = -1;
    SleepLog sleep;
    Bme280Driver driver(bus, {kAt76}, sleep.sleeper());
    EXPECT_THAT(errorOf(driver),
                StartsWith("BME280 at 0x76 on /dev/i2c-1 is still copying its calibration"));
    EXPECT_EQ(bus.readsOf(0x88), 0u);
}

TEST(Bme280Driver, RefusesDataFromAMeasurementThatDidNotRun) {
    FakeBus::Chip chip = FakeBus::chipFrom(bme280Vector());
    chip.ignoresForcedMode = true;
    EXPECT_EQ(errorOfChip(chip),
              "BME280 at 0x76 on /dev/i2c-1 returned no data: the measurement did not run");
}

TEST(Bme280Driver, RefusesBlankCalibration) {
    FakeBus::Chip chip = FakeBus::chipFrom(bme280Vector());
    std::fill(chip.registers.begin() + 0x88, chip.registers.begin() + 0xA2, 0);
    EXPECT_EQ(errorOfChip(chip),
              "BME280 at 0x76 on /dev/i2c-1 returned implausible calibration (dig_T1 = 0, "
              "dig_P1 = 0)");
}

TEST(Bme280Driver, NamesTheSensorWhenItsCalibrationWouldDivideByZero) {
    // Trim values that pass the dig_T1/dig_P1 check but zero the pressure formula's divisor:
    // dig_T1 8192, dig_T2 32767, dig_T3 8002 and adc_T 0xA0000 give t_fine 1,176,576 exactly,
    // then dig_P2 -32768 with dig_P3 0 makes var1 = (1 - 32768 / 32768) * dig_P1 = 0.
    FakeBus::Chip chip = FakeBus::chipFrom(bme280Vector());
    const std::uint8_t temperatureTrim[] = {0x00, 0x20, 0xFF, 0x7F, 0x42, 0x1F};
    std::copy(std::begin(temperatureTrim), std::end(temperatureTrim),
              chip.registers.begin() + 0x88);
    const std::uint8_t pressureP2P3[] = {0x00, 0x80, 0x00, 0x00};
    std::copy(std::begin(pressureP2P3), std::end(pressureP2P3), chip.registers.begin() + 0x90);
    chip.conversion[3] = 0xA0;  // adc_T = 0xA0000
    chip.conversion[4] = 0x00;
    chip.conversion[5] = 0x00;
    EXPECT_EQ(errorOfChip(chip),
              "BME280 at 0x76 on /dev/i2c-1: calibration makes pressure compensation divide by "
              "zero");
}

// ---------------------------------------------------------------------------------------------
// Decoding and compensation details

TEST(Bme280Driver, DecodesNegativeH4AndH5) {
    std::array<std::uint8_t, kCalibrationBlock1Size> block1{};
    // E4=0xF0 E5=0x9A E6=0xF1: H4 = 0xF0<<4 | 0xA = -246, H5 = 0xF1<<4 | 0x9 = -231.
    const std::array<std::uint8_t, kCalibrationBlock2Size> block2 = {0x00, 0x80, 0xFF, 0xF0,
                                                                     0x9A, 0xF1, 0x80};
    block1[25] = 0xC8;
    const Calibration c = parseCalibration(block1, block2);
    EXPECT_EQ(c.h1, 200);
    EXPECT_EQ(c.h2, -32768);
    EXPECT_EQ(c.h3, 255);
    EXPECT_EQ(c.h4, -246);
    EXPECT_EQ(c.h5, -231);
    EXPECT_EQ(c.h6, -128);
}

TEST(Bme280Driver, ClampsHumidity) {
    const Vector& v = bme280Vector();
    const Calibration c = parseCalibration(v.calibration1, v.calibration2);
    RawSample raw = parseSample(v.data);
    raw.humidity = 0;
    EXPECT_EQ(compensate(c, raw).humidityRh, 0.0);
    raw.humidity = 0xFFFF;
    EXPECT_EQ(compensate(c, raw).humidityRh, 100.0);
}

TEST(Bme280Driver, SixByteSampleHasNoHumidity) {
    const std::array<std::uint8_t, 6> data = {0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00};
    const RawSample raw = parseSample(data);
    EXPECT_EQ(raw.pressure, 415148);
    EXPECT_EQ(raw.temperature, 519888);
    EXPECT_EQ(raw.humidity, std::nullopt);
}

}  // namespace
