#include <sensorsys/command_runner.hpp>
#include <sensorsys/plugin_support.hpp>

#include "error_of.hpp"
#include "test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace {

using sensorsys::plugin::CommandResult;
using sensorsys::plugin::describeFailure;
using sensorsys::plugin::ReadError;
using sensorsys::plugin::resolveCommand;
using sensorsys::plugin::SpawnCommandRunner;
using sensorsys::test::errorOf;
using sensorsys::test::processEnded;
using testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kDataDir = std::string(SENSORSYS_TEST_DATA_DIR) + "/cputemp";

TEST(CommandRunner, CapturesOutputAndExitStatus) {
    const CommandResult result =
        SpawnCommandRunner().run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
    EXPECT_EQ(result.out, "out\n");
    EXPECT_EQ(result.err, "err\n");
    ASSERT_TRUE(WIFEXITED(result.waitStatus));
    EXPECT_EQ(WEXITSTATUS(result.waitStatus), 3);
    EXPECT_FALSE(result.succeeded());
}

TEST(CommandRunner, PassesArgumentsWithoutAShell) {
    // A shell would expand the $ and split on the space.
    const CommandResult result = SpawnCommandRunner().run({"/bin/echo", "$HOME and; more"}, 5s);
    EXPECT_TRUE(result.succeeded());
    EXPECT_EQ(result.out, "$HOME and; more\n");
}

TEST(CommandRunner, MissingProgramIsENOENT) {
    EXPECT_EQ(errorOf<ReadError>([] { SpawnCommandRunner().run({"/nonexistent/vcgencmd"}, 5s); }),
              "/nonexistent/vcgencmd not found (ENOENT)");
}

TEST(CommandRunner, NonExecutableFileNamesErrno) {
    const std::string fixture = kDataDir + "/thermal_zone0_temp";
    EXPECT_EQ(errorOf<ReadError>([&] { SpawnCommandRunner().run({fixture}, 5s); }),
              "cannot run " + fixture + ": EACCES: Permission denied");
}

TEST(CommandRunner, TimeoutKillsTheWholeProcessGroup) {
    const std::string pidFile = testing::TempDir() + "sensorsys-cputemp-hang.pid";
    std::remove(pidFile.c_str());
    const auto start = std::chrono::steady_clock::now();
    const std::string error = errorOf<ReadError>([&] {
        SpawnCommandRunner().run({kDataDir + "/vcgencmd-hang", "x", pidFile}, 300ms);
    });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_THAT(error, HasSubstr("vcgencmd-hang did not answer within 300 ms (killed)"));

    std::string grandchild;
    std::ifstream(pidFile) >> grandchild;
    ASSERT_FALSE(grandchild.empty()) << "the hang script did not record its sleep";
    // SIGKILL is delivered asynchronously; give the kernel a moment.
    for (int i = 0; i < 100 && !processEnded(grandchild); ++i) std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(processEnded(grandchild)) << "sleep " << grandchild << " survived the timeout";
    std::remove(pidFile.c_str());
}

TEST(CommandRunner, DescribesExitStatusWithFirstStderrLine) {
    CommandResult result;
    result.waitStatus = 1 << 8;  // exited with status 1
    result.err = "\nVCHI initialization failed\nmore\n";
    EXPECT_EQ(describeFailure("/usr/bin/vcgencmd", result),
              "/usr/bin/vcgencmd exited with status 1: \"VCHI initialization failed\"");
}

TEST(CommandRunner, KeepsTheHeadOfALargeStdoutAndSaysItWasCut) {
    const CommandResult result =
        SpawnCommandRunner().run({"/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"}, 10s);
    EXPECT_TRUE(result.succeeded());
    EXPECT_TRUE(result.outTruncated);
    EXPECT_EQ(result.out, std::string(sensorsys::plugin::kOutputCap, 'x'));
}

TEST(CommandRunner, OutputAtTheCapIsNotCut) {
    const CommandResult result = SpawnCommandRunner().run(
        {"/bin/sh", "-c",
         "head -c " + std::to_string(sensorsys::plugin::kOutputCap) + " /dev/zero"},
        10s);
    EXPECT_FALSE(result.outTruncated);
    EXPECT_EQ(result.out.size(), sensorsys::plugin::kOutputCap);
}

TEST(CommandRunner, KeepsTheTailOfALargeStderr) {
    const CommandResult result = SpawnCommandRunner().run(
        {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; echo last >&2"},
        10s);
    EXPECT_EQ(result.err.size(), sensorsys::plugin::kErrorCap);
    EXPECT_THAT(result.err, testing::EndsWith("xx\nlast\n"));
}

TEST(CommandRunner, DescribesExitStatusWithLastStderrLineOnRequest) {
    CommandResult result;
    result.waitStatus = 1 << 8;
    result.err = "warming up\nsensor not found\n\n";
    EXPECT_EQ(describeFailure("read.sh", result, sensorsys::plugin::StderrLine::Last),
              "read.sh exited with status 1: \"sensor not found\"");
}

TEST(CommandRunner, DescribesDeathBySignal) {
    const CommandResult result = SpawnCommandRunner().run({"/bin/sh", "-c", "kill -TERM $$"}, 5s);
    EXPECT_EQ(describeFailure("/bin/sh", result), "/bin/sh was killed by signal 15 (SIGTERM)");
}

TEST(CommandResolve, FindsBareNameInPath) {
    EXPECT_EQ(resolveCommand("vcgencmd-ok", "/nonexistent::" + kDataDir),
              kDataDir + "/vcgencmd-ok");
}

TEST(CommandResolve, SkipsNonExecutableMatches) {
    EXPECT_EQ(resolveCommand("thermal_zone0_temp", kDataDir), "/usr/bin/thermal_zone0_temp");
}

TEST(CommandResolve, FallsBackToUsrBin) {
    EXPECT_EQ(resolveCommand("vcgencmd", "/nonexistent"), "/usr/bin/vcgencmd");
    EXPECT_EQ(resolveCommand("vcgencmd", ""), "/usr/bin/vcgencmd");
}

TEST(CommandResolve, UsesNamesWithSlashAsGiven) {
    EXPECT_EQ(resolveCommand("./vcgencmd", kDataDir), "./vcgencmd");
    EXPECT_EQ(resolveCommand("/opt/vc/bin/vcgencmd", kDataDir), "/opt/vc/bin/vcgencmd");
}

}  // namespace
