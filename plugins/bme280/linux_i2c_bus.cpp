#include "linux_i2c_bus.hpp"

#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sensorsys::bme280 {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

void FileDescriptor::reset(int fd) noexcept {
    // close(2) releases the descriptor even when it reports EINTR on Linux, so no retry.
    if (_fd >= 0) ::close(_fd);
    _fd = fd;
}

int FileDescriptor::release() noexcept {
    return std::exchange(_fd, -1);
}

LinuxI2cBus::LinuxI2cBus(std::string path) : _path(std::move(path)) {}

void LinuxI2cBus::close() {
    _fd.reset();
    _selected.reset();
}

int LinuxI2cBus::select(std::uint8_t address) {
    if (!_fd) {
        const int fd = ::open(_path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw I2cError(I2cOperation::Open, _path, address, errno);
        _fd.reset(fd);
        _selected.reset();
    }
    if (_selected != address) {
        if (::ioctl(_fd.get(), I2C_SLAVE, static_cast<unsigned long>(address)) < 0) {
            throw I2cError(I2cOperation::SelectDevice, _path, address, errno);
        }
        _selected = address;
    }
    return _fd.get();
}

void LinuxI2cBus::send(std::uint8_t address, std::span<const std::uint8_t> bytes) {
    const int fd = select(address);
    ssize_t written;
    do {
        written = ::write(fd, bytes.data(), bytes.size());
    } while (written < 0 && errno == EINTR);
    if (written < 0) throw I2cError(I2cOperation::Write, _path, address, errno);
    // i2c-dev sends a message whole or not at all; a short count means the adapter gave up.
    if (static_cast<std::size_t>(written) != bytes.size()) {
        throw I2cError(I2cOperation::Write, _path, address, EIO);
    }
}

void LinuxI2cBus::receive(std::uint8_t address, std::span<std::uint8_t> bytes) {
    const int fd = select(address);
    ssize_t got;
    do {
        got = ::read(fd, bytes.data(), bytes.size());
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw I2cError(I2cOperation::Read, _path, address, errno);
    if (static_cast<std::size_t>(got) != bytes.size()) {
        throw I2cError(I2cOperation::Read, _path, address, EIO);
    }
}

void LinuxI2cBus::readRegisters(std::uint8_t address, std::uint8_t first,
                                std::span<std::uint8_t> out) {
    const std::uint8_t pointer[] = {first};
    send(address, pointer);
    receive(address, out);
}

void LinuxI2cBus::writeRegister(std::uint8_t address, std::uint8_t reg, std::uint8_t value) {
    const std::uint8_t message[] = {reg, value};
    send(address, message);
}

}  // namespace sensorsys::bme280
