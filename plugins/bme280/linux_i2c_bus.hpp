// The production I2cBus: Linux i2c-dev (/dev/i2c-N) through open(2), ioctl(I2C_SLAVE),
// write(2) and read(2).
#pragma once

#include "i2c_bus.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sensorsys::bme280 {

// Owns one file descriptor and closes it exactly once.
// Thread-safety: not thread-safe; same owner rules as an int fd.
class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : _fd(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : _fd(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(); }

    int get() const { return _fd; }
    explicit operator bool() const { return _fd >= 0; }
    void reset(int fd = -1) noexcept;
    int release() noexcept;

  private:
    int _fd = -1;
};

// I2C bus over the kernel's i2c-dev interface. It uses I2C_SLAVE (not I2C_FORCE, not I2C_RDWR)
// so that an address claimed by a kernel driver is refused with EBUSY instead of being talked
// over; BME280 register reads work as a plain write of the register number then a read.
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class LinuxI2cBus final : public I2cBus {
  public:
    explicit LinuxI2cBus(std::string path);

    const std::string& path() const override { return _path; }
    void readRegisters(std::uint8_t address, std::uint8_t first,
                       std::span<std::uint8_t> out) override;
    void writeRegister(std::uint8_t address, std::uint8_t reg, std::uint8_t value) override;
    void close() override;

  private:
    // Opens the bus if needed and points it at `address`; returns the descriptor.
    int select(std::uint8_t address);
    void send(std::uint8_t address, std::span<const std::uint8_t> bytes);
    void receive(std::uint8_t address, std::span<std::uint8_t> bytes);

    std::string _path;
    FileDescriptor _fd;
    std::optional<std::uint8_t> _selected;  // the address I2C_SLAVE last set on _fd
};

}  // namespace sensorsys::bme280
