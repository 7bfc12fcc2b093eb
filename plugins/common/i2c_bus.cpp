#include "sensorsys/i2c_bus.hpp"

#include <cerrno>
#include <cstdio>

namespace sensorsys::i2c {
namespace {

std::string describe(I2cOperation operation, const std::string& bus, std::uint8_t address,
                     int code) {
    const std::string device = hexByte(address);
    const std::string cause = plugin::errnoText(code);
    if (operation != I2cOperation::Open && (code == ENXIO || code == EREMOTEIO)) {
        return "no device at " + device + " on " + bus + " (" + cause + ")";
    }
    switch (operation) {
        case I2cOperation::Open: {
            std::string text =
                "cannot open I2C bus " + bus + " for device " + device + ": " + cause;
            if (code == ENOENT) text += " (is the bus enabled and the i2c-dev module loaded?)";
            if (code == EACCES || code == EPERM) {
                text += " (the agent's user needs read/write access, usually group i2c)";
            }
            return text;
        }
        case I2cOperation::SelectDevice: {
            std::string text =
                "cannot address device " + device + " on " + bus + " (ioctl I2C_SLAVE): " + cause;
            if (code == EBUSY) text += " (a kernel driver has claimed this address)";
            if (code == ENOTTY) text += " (" + bus + " is not an I2C bus device)";
            return text;
        }
        case I2cOperation::Write:
            return "write to device " + device + " on " + bus + " failed: " + cause;
        case I2cOperation::Read:
            return "read from device " + device + " on " + bus + " failed: " + cause;
    }
    return "I2C transfer with device " + device + " on " + bus + " failed: " + cause;
}

}  // namespace

I2cError::I2cError(I2cOperation operation, const std::string& bus, std::uint8_t address, int code)
    : plugin::ReadError(describe(operation, bus, address, code)),
      _operation(operation),
      _address(address),
      _code(code) {}

bool I2cError::noDevice() const {
    return _operation != I2cOperation::Open && (_code == ENXIO || _code == EREMOTEIO);
}

void I2cBus::readRegisters(std::uint8_t address, std::uint8_t first, std::span<std::uint8_t> out) {
    const std::uint8_t pointer[] = {first};
    write(address, pointer);
    read(address, out);
}

void I2cBus::writeRegister(std::uint8_t address, std::uint8_t reg, std::uint8_t value) {
    const std::uint8_t message[] = {reg, value};
    write(address, message);
}

std::string hexByte(std::uint8_t value) {
    char text[5];
    std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(value));
    return text;
}

}  // namespace sensorsys::i2c
