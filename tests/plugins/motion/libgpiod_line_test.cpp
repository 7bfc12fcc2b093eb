// The libgpiod-backed line on this machine: a chip that does not exist is an error naming the
// chip and the errno; on a machine with a GPIO chip, a line it does not have is one too.
#include "libgpiod_line.hpp"

#include "error_of.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

using namespace sensorsys;
using ::testing::HasSubstr;

TEST(LibgpiodLine, MissingChipPathIsAnErrorNamingTheChipLineAndErrno) {
    motion::LibgpiodLine line("/dev/gpiochip-sensorsys-missing", 5);
    const std::string message = test::errorOf<motion::GpioError>([&] { line.requestEvents(); });
    EXPECT_THAT(message, HasSubstr("/dev/gpiochip-sensorsys-missing"));
    EXPECT_THAT(message, HasSubstr("line 5"));
    EXPECT_THAT(message, HasSubstr("ENOENT"));
}

TEST(LibgpiodLine, UnknownChipNameIsAnErrorNamingTheChipAndAnErrno) {
    motion::LibgpiodLine line("gpiochip-sensorsys-missing", 5);
    const std::string message = test::errorOf<motion::GpioError>([&] { line.requestEvents(); });
    EXPECT_THAT(message, HasSubstr("gpiochip-sensorsys-missing"));
    EXPECT_THAT(message, ::testing::MatchesRegex(".*: E[A-Z0-9]+: .*"));
}

TEST(LibgpiodLine, LineTheChipDoesNotHaveIsAnErrorNamingChipAndLine) {
    std::string chip;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator("/dev", ignored)) {
        if (entry.path().filename().string().rfind("gpiochip", 0) == 0) {
            chip = entry.path().string();
            break;
        }
    }
    if (chip.empty()) GTEST_SKIP() << "no /dev/gpiochip* on this machine (and no gpio-sim)";
    motion::LibgpiodLine line(chip, 60000);
    const std::string message = test::errorOf<motion::GpioError>([&] { line.requestEvents(); });
    EXPECT_THAT(message, HasSubstr(chip));
    EXPECT_THAT(message, HasSubstr("line 60000"));
}

}  // namespace
