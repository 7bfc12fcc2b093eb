// Whole-message transfers on an I2C bus, for command-based chips such as the SGP30 that have no
// register pointer: a command is one write, its reply one read after the chip's execution time.
// The seam between the SGP30 driver and the hardware (Linux i2c-dev, or a test emulator).
// It reuses bme280's I2cError and FileDescriptor so messages read the same for every I2C plugin;
// it folds into the shared I2C library once bme280's bus moves to plugins/common.
// Thread-safety: not thread-safe; one owner uses a bus from one thread at a time.
#pragma once

#include "i2c_bus.hpp"
#include "linux_i2c_bus.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sensorsys::sgp30 {

using bme280::I2cError;
using bme280::I2cOperation;

// One I2C bus seen as messages. Implementations open the device lazily on the first transfer.
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class I2cMessageBus {
  public:
    I2cMessageBus() = default;
    I2cMessageBus(const I2cMessageBus&) = delete;
    I2cMessageBus& operator=(const I2cMessageBus&) = delete;
    virtual ~I2cMessageBus() = default;

    // Names the bus in messages, e.g. "/dev/i2c-1".
    virtual const std::string& path() const = 0;
    // Sends `bytes` as one write message. Throws I2cError.
    virtual void write(std::uint8_t address, std::span<const std::uint8_t> bytes) = 0;
    // Receives out.size() bytes as one read message. Throws I2cError.
    virtual void read(std::uint8_t address, std::span<std::uint8_t> out) = 0;
    // Drops any open handle; the next transfer opens the bus afresh.
    virtual void close() = 0;
};

// Linux i2c-dev with I2C_SLAVE (an address claimed by a kernel driver is refused with EBUSY).
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class LinuxI2cMessageBus final : public I2cMessageBus {
  public:
    explicit LinuxI2cMessageBus(std::string path);

    const std::string& path() const override { return _path; }
    void write(std::uint8_t address, std::span<const std::uint8_t> bytes) override;
    void read(std::uint8_t address, std::span<std::uint8_t> out) override;
    void close() override;

  private:
    int select(std::uint8_t address);

    std::string _path;
    bme280::FileDescriptor _fd;
    std::optional<std::uint8_t> _selected;
};

}  // namespace sensorsys::sgp30
