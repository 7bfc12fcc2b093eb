// Access to devices on one I2C bus, as plain transfers (command-driven chips such as the BH1750)
// or register reads and writes (BME280): the seam between our I2C drivers and the hardware, so
// a driver runs unchanged against Linux i2c-dev and against test fakes. Part of the sensorsys_i2c
// library that the I2C plugins share. Thread-safety: see each class.
#pragma once

#include <sensorsys/plugin_support.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace sensorsys::i2c {

// Which step of a bus transfer failed; it decides the wording and whether "no device" applies.
enum class I2cOperation { Open, SelectDevice, Write, Read };

// A failed bus transfer. Every I2cBus implementation reports failures with it so messages read
// the same whatever the bus is, and so the driver can tell "nothing answered at this address"
// (try the next address) from a bus that is unusable as a whole.
// Thread-safety: immutable after construction.
class I2cError : public plugin::ReadError {
  public:
    I2cError(I2cOperation operation, const std::string& bus, std::uint8_t address, int code);

    I2cOperation operation() const { return _operation; }
    std::uint8_t address() const { return _address; }
    int code() const { return _code; }  // the errno value

    // True when the bus works but no device acknowledged the address (ENXIO, EREMOTEIO).
    bool noDevice() const;

  private:
    I2cOperation _operation;
    std::uint8_t _address;
    int _code;
};

// "0x76": how addresses, registers and chip ids appear in messages.
std::string hexByte(std::uint8_t value);

// One I2C bus. Implementations open their device lazily on the first transfer, so a bus that
// appears after the agent started (a USB adapter plugged in later) is picked up.
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class I2cBus {
  public:
    I2cBus() = default;
    I2cBus(const I2cBus&) = delete;
    I2cBus& operator=(const I2cBus&) = delete;
    virtual ~I2cBus() = default;

    // Names the bus in messages, e.g. "/dev/i2c-1".
    virtual const std::string& path() const = 0;

    // Sends `bytes` to the device at `address` as one message. Throws I2cError.
    virtual void write(std::uint8_t address, std::span<const std::uint8_t> bytes) = 0;

    // Receives exactly in.size() bytes from the device at `address`. Throws I2cError.
    virtual void read(std::uint8_t address, std::span<std::uint8_t> in) = 0;

    // Reads out.size() consecutive registers of the device at `address`, starting at `first`:
    // by default a write of the register number, then a read. Throws I2cError.
    virtual void readRegisters(std::uint8_t address, std::uint8_t first,
                               std::span<std::uint8_t> out);

    // By default one two-byte write (register, value). Throws I2cError.
    virtual void writeRegister(std::uint8_t address, std::uint8_t reg, std::uint8_t value);

    // Drops any open handle; the next transfer opens the bus afresh. Called after a failure
    // because a re-plugged adapter is a new device node and the old handle stays dead.
    virtual void close() = 0;
};

}  // namespace sensorsys::i2c
