#include "sensorsys/linux_i2c_bus.hpp"

#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sensorsys::i2c {

LinuxI2cBus::LinuxI2cBus(std::string path) : _path(std::move(path)) {}

void LinuxI2cBus::close() {
    _fd.reset();
    _selected.reset();
}

int LinuxI2cBus::select(std::uint8_t address) {
    if (!_fd.valid()) {
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

void LinuxI2cBus::write(std::uint8_t address, std::span<const std::uint8_t> bytes) {
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

void LinuxI2cBus::read(std::uint8_t address, std::span<std::uint8_t> bytes) {
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

}  // namespace sensorsys::i2c
