// An SGP30 on the I2C seam: it answers iaq_init, measure_iaq, get_iaq_baseline and
// set_iaq_baseline like the datasheet's chip, computes Sensirion's CRC-8 on its own (not with the
// plugin's code), checks the CRC of every word it receives, and records every message.
// Thread-safety: all members are safe between the monitor's thread and the test's thread.
#pragma once

#include <sensorsys/i2c_bus.hpp>
#include <sensorsys/linux_i2c_bus.hpp>
#include "sgp30_driver.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace sensorsys::test {

// Sensirion's CRC-8 written independently of the plugin: over a byte sequence, MSB first.
std::uint8_t sensirionCrc(std::span<const std::uint8_t> bytes);

class Sgp30Emulator {
  public:
    // What the chip serves; the test changes it at will.
    void setAirQuality(std::uint16_t eco2, std::uint16_t tvoc);
    void setBaseline(sgp30::Baseline baseline);
    // Every reply from now on carries a wrong CRC in its second word.
    void corruptCrc(bool corrupt);
    // Every transfer from now on fails with this errno (0: none).
    void failWith(int code);

    std::vector<std::vector<std::uint8_t>> writes();
    int commandsSent(std::uint16_t command);
    // set_iaq_baseline messages whose CRCs were right, as (eCO2, TVOC).
    std::vector<sgp30::Baseline> baselinesSet();
    int badCrcsReceived();
    int transfersAfterDetach();

    // The bus side (called through EmulatedBus).
    void write(std::span<const std::uint8_t> bytes, const std::string& bus);
    void read(std::span<std::uint8_t> out, const std::string& bus);
    void detach();

  private:
    void check(const std::string& bus, i2c::I2cOperation operation);
    void putWord(std::span<std::uint8_t> out, std::size_t index, std::uint16_t word);

    std::mutex _mutex;
    std::uint16_t _eco2 = 400;
    std::uint16_t _tvoc = 0;
    sgp30::Baseline _baseline{0x8E68, 0x8F41};
    bool _corrupt = false;
    int _failure = 0;
    std::uint16_t _pending = 0;  // the command whose reply a read returns
    std::vector<std::vector<std::uint8_t>> _writes;
    std::vector<sgp30::Baseline> _baselinesSet;
    int _badCrcs = 0;
    bool _detached = false;
    int _afterDetach = 0;
};

// The i2c::I2cBus the monitor owns, forwarding to an emulator the test keeps; its destruction
// (with the monitor) detaches the emulator, which then counts any late transfer.
class EmulatedBus final : public i2c::I2cBus {
  public:
    explicit EmulatedBus(std::shared_ptr<Sgp30Emulator> chip,
                         std::string path = "/dev/i2c-emulated");
    ~EmulatedBus() override { _chip->detach(); }

    const std::string& path() const override { return _path; }
    void write(std::uint8_t address, std::span<const std::uint8_t> bytes) override;
    void read(std::uint8_t address, std::span<std::uint8_t> out) override;
    void close() override {}

  private:
    std::shared_ptr<Sgp30Emulator> _chip;
    std::string _path;
};

}  // namespace sensorsys::test
