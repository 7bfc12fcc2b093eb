// The production I2cBus: Linux i2c-dev (/dev/i2c-N) through open(2), ioctl(I2C_SLAVE),
// write(2) and read(2).
#pragma once

#include "sensorsys/i2c_bus.hpp"
#include "sensorsys/unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sensorsys::i2c {

// I2C bus over the kernel's i2c-dev interface. It uses I2C_SLAVE (not I2C_FORCE, not I2C_RDWR)
// so that an address claimed by a kernel driver is refused with EBUSY instead of being talked
// over; register reads work as a plain write of the register number then a read.
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class LinuxI2cBus final : public I2cBus {
  public:
    explicit LinuxI2cBus(std::string path);

    const std::string& path() const override { return _path; }
    void write(std::uint8_t address, std::span<const std::uint8_t> bytes) override;
    void read(std::uint8_t address, std::span<std::uint8_t> in) override;
    void close() override;

  private:
    // Opens the bus if needed and points it at `address`; returns the descriptor.
    int select(std::uint8_t address);

    std::string _path;
    plugin::UniqueFd _fd;
    std::optional<std::uint8_t> _selected;  // the address I2C_SLAVE last set on _fd
};

}  // namespace sensorsys::i2c
