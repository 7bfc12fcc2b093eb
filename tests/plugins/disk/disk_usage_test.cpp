#include "disk_usage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "error_of.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

namespace {

using sensorsys::disk::formatUsage;
using sensorsys::disk::kConfigKeys;
using sensorsys::disk::measure;
using sensorsys::disk::Settings;
using sensorsys::disk::Usage;
using sensorsys::disk::usageFromStatvfs;
using sensorsys::plugin::Config;
using sensorsys::plugin::ConfigError;
using sensorsys::plugin::ReadError;
using testing::AllOf;
using testing::HasSubstr;

using sensorsys::test::errorOf;

std::string configError(const std::string& json) {
    return errorOf<ConfigError>([&] { Settings::fromConfig(Config(json.c_str(), kConfigKeys)); });
}

struct statvfs makeStats(unsigned long frsize, fsblkcnt_t blocks, fsblkcnt_t bfree,
                         fsblkcnt_t bavail) {
    struct statvfs stats {};
    stats.f_bsize = 1;  // shutil.disk_usage ignores it; so must we
    stats.f_frsize = frsize;
    stats.f_blocks = blocks;
    stats.f_bfree = bfree;
    stats.f_bavail = bavail;
    return stats;
}

// The seed's own numbers for `path`, from python3 with read_sensors.py's read_disk arithmetic;
// nullopt when python3 is not installed.
std::optional<Usage> pythonUsage(const std::string& path) {
    const std::string command = "python3 -c \"import shutil; u = shutil.disk_usage('" + path +
                                "'); mb = 1024 * 1024; "
                                "print(u.total // mb, u.used // mb, u.free // mb)\" 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string output;
    std::array<char, 256> chunk{};
    while (std::fgets(chunk.data(), chunk.size(), pipe) != nullptr) output += chunk.data();
    const int status = ::pclose(pipe);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return std::nullopt;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
    Usage usage;
    std::istringstream(output) >> usage.totalMb >> usage.usedMb >> usage.freeMb;
    return usage;
}

void expectMatchesPython(const std::string& path) {
    // The file system changes under us (other builds share the disk), so read before and after
    // python and require its used/free to lie between, give or take a few MiB.
    const Usage before = measure(path);
    const std::optional<Usage> python = pythonUsage(path);
    const Usage after = measure(path);
    if (!python) GTEST_SKIP() << "python3 is not installed";
    constexpr std::int64_t kSlackMb = 4;
    EXPECT_EQ(python->totalMb, before.totalMb);
    EXPECT_EQ(python->totalMb, after.totalMb);
    EXPECT_GE(python->usedMb, std::min(before.usedMb, after.usedMb) - kSlackMb);
    EXPECT_LE(python->usedMb, std::max(before.usedMb, after.usedMb) + kSlackMb);
    EXPECT_GE(python->freeMb, std::min(before.freeMb, after.freeMb) - kSlackMb);
    EXPECT_LE(python->freeMb, std::max(before.freeMb, after.freeMb) + kSlackMb);
}

TEST(DiskUsage, SeedArithmeticFromStatvfs) {
    // 1000 blocks of 4 KiB: total 3.9 MiB, used 700 blocks = 2.7 MiB, available 250 = 0.98 MiB.
    EXPECT_EQ(usageFromStatvfs(makeStats(4096, 1000, 300, 250)), (Usage{3, 2, 0}));
    // A 64 GB card: 15,000,000 blocks of 4 KiB, whose byte count overflows 32 bits.
    EXPECT_EQ(usageFromStatvfs(makeStats(4096, 15'000'000, 9'000'000, 8'000'000)),
              (Usage{58593, 23437, 31250}));
}

TEST(DiskUsage, NegativeUsedFloorsLikePython) {
    // More free than total blocks (seen on some FUSE file systems): Python's // floors, giving
    // (10 - 300) * 4096 // 2**20 == -2, where C++ division would give -1.
    EXPECT_EQ(usageFromStatvfs(makeStats(4096, 10, 300, 300)).usedMb, -2);
}

TEST(DiskUsage, MatchesPythonForRoot) {
    expectMatchesPython("/");
}

TEST(DiskUsage, MatchesPythonForTestData) {
    expectMatchesPython(SENSORSYS_TEST_DATA_DIR);
}

TEST(DiskUsage, MissingPathNamesPathAndErrno) {
    EXPECT_EQ(errorOf<ReadError>([] { measure("/nonexistent/sensorsys"); }),
              "statvfs /nonexistent/sensorsys: ENOENT: No such file or directory");
}

TEST(DiskUsage, FormatsIntegers) {
    EXPECT_EQ(formatUsage(Usage{29800, 8123, 20401}),
              R"({"total_mb": 29800, "used_mb": 8123, "free_mb": 20401})");
}

TEST(DiskConfig, DefaultsToRoot) {
    EXPECT_EQ(Settings::fromConfig(Config("{}", kConfigKeys)).path, "/");
    EXPECT_EQ(Settings::fromConfig(Config(R"({"path": "/var/lib"})", kConfigKeys)).path,
              "/var/lib");
}

TEST(DiskConfig, RefusesUnknownKeyNamingIt) {
    EXPECT_THAT(configError(R"({"mount": "/"})"), AllOf(HasSubstr("'mount'"), HasSubstr("path")));
}

TEST(DiskConfig, RefusesRelativeEmptyAndNonStringPaths) {
    EXPECT_EQ(configError(R"({"path": "var"})"), "key 'path' must be an absolute path, got 'var'");
    EXPECT_THAT(configError(R"({"path": ""})"), HasSubstr("'path'"));
    EXPECT_THAT(configError(R"({"path": 1})"), HasSubstr("'path'"));
}

}  // namespace
