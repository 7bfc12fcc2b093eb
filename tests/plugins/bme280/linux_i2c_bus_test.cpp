// The production i2c-dev bus on paths that are not I2C buses: proves the real open(2) and
// ioctl(2) run and that their failures name the path, the address and the errno.
#include "bme280_driver.hpp"

#include <sensorsys/linux_i2c_bus.hpp>
#include <sensorsys/unique_fd.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace sensorsys::bme280;
using sensorsys::i2c::LinuxI2cBus;
using sensorsys::plugin::UniqueFd;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string pattern = ::testing::TempDir() + "bme280-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        _path = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(_path, ignored);
    }
    std::string file(const std::string& name) const { return (_path / name).string(); }

  private:
    std::filesystem::path _path;
};

TEST(Bme280LinuxI2cBus, MissingBusNamesPathAndEnoent) {
    TempDir dir;
    const std::string path = dir.file("i2c-99");
    LinuxI2cBus bus(path);
    std::array<std::uint8_t, 1> id{};
    try {
        bus.readRegisters(0x76, 0xD0, id);
        FAIL() << "read from a missing bus succeeded";
    } catch (const I2cError& e) {
        EXPECT_EQ(e.operation(), I2cOperation::Open);
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_FALSE(e.noDevice());
        EXPECT_THAT(e.what(), StartsWith("cannot open I2C bus " + path +
                                         " for device 0x76: "
                                         "ENOENT: No such file or directory"));
    }
}

TEST(Bme280LinuxI2cBus, RegularFileFailsAtIoctlWithEnotty) {
    TempDir dir;
    const std::string path = dir.file("not-a-bus");
    std::ofstream(path) << "plain file\n";
    LinuxI2cBus bus(path);
    try {
        bus.writeRegister(0x77, 0xF4, 0x25);
        FAIL() << "write to a regular file as a bus succeeded";
    } catch (const I2cError& e) {
        EXPECT_EQ(e.operation(), I2cOperation::SelectDevice);
        EXPECT_EQ(e.code(), ENOTTY);
        EXPECT_THAT(e.what(), HasSubstr(path));
        EXPECT_THAT(e.what(), HasSubstr("0x77"));
        EXPECT_THAT(e.what(), HasSubstr("I2C_SLAVE"));
        EXPECT_THAT(e.what(), HasSubstr("ENOTTY: "));
    }
    // The file was not written to: the transfer stopped at the failed ioctl.
    std::ifstream in(path);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "plain file\n");
}

TEST(Bme280LinuxI2cBus, ReopensAfterClose) {
    TempDir dir;
    const std::string path = dir.file("i2c-7");
    LinuxI2cBus bus(path);
    std::array<std::uint8_t, 1> id{};
    EXPECT_THROW(bus.readRegisters(0x76, 0xD0, id), I2cError);
    bus.close();
    // The node appears later (an adapter plugged in): the next transfer opens it.
    std::ofstream(path) << "";
    try {
        bus.readRegisters(0x76, 0xD0, id);
        FAIL() << "read from a regular file succeeded";
    } catch (const I2cError& e) {
        EXPECT_EQ(e.code(), ENOTTY);
    }
}

TEST(Bme280LinuxI2cBus, DriverReportsTheMissingBusNotMissingDevices) {
    TempDir dir;
    const std::string path = dir.file("i2c-99");
    LinuxI2cBus bus(path);
    Bme280Driver driver(bus, {0x77, 0x76}, [](std::chrono::microseconds) {});
    try {
        driver.measure();
        FAIL() << "measure on a missing bus succeeded";
    } catch (const sensorsys::plugin::ReadError& e) {
        EXPECT_THAT(e.what(), StartsWith("cannot open I2C bus " + path + " for device 0x77"));
        EXPECT_THAT(e.what(), HasSubstr("ENOENT"));
    }
}

TEST(Bme280LinuxI2cBus, UniqueFdClosesOnce) {
    const int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(raw, 0);
    {
        UniqueFd a(raw);
        UniqueFd b(std::move(a));
        EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
        EXPECT_EQ(b.get(), raw);
    }
    errno = 0;
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
    EXPECT_EQ(errno, EBADF);
}

}  // namespace
