// The exec sensor against real scripts run through the shared process runner: good output, bad
// JSON, nothing, 10 MB, a hang whose whole process group must die, failures that name the
// command, and the settings the plugin declares.
#include "exec_sensor.hpp"

#include "error_of.hpp"
#include "test_support.hpp"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace {

using sensorsys::exec::ExecSensor;
using sensorsys::exec::kConfigKeys;
using sensorsys::plugin::Config;
using sensorsys::plugin::ConfigError;
using sensorsys::plugin::ReadError;
using sensorsys::test::processEnded;
using sensorsys::test::TempDir;
using testing::HasSubstr;
using testing::StartsWith;
using namespace std::chrono_literals;

// A JSON string literal for `text` (paths in the temp folder need no escaping beyond quotes).
std::string jsonString(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

class ExecSensorTest : public testing::Test {
  protected:
    // An executable shell script in the temp folder; returns its path.
    std::string script(const std::string& name, const std::string& body) {
        const auto path = (dir / name).string();
        sensorsys::test::writeFile(path, "#!/bin/sh\n" + body + "\n");
        ::chmod(path.c_str(), 0755);
        return path;
    }

    static ExecSensor sensor(const std::string& command, const std::string& extra = "") {
        const std::string json = R"({"command": )" + jsonString(command) + extra + "}";
        return ExecSensor(Config(json.c_str(), kConfigKeys));
    }

    static std::string readError(ExecSensor& sensor) {
        return sensorsys::test::errorOf<ReadError>([&] { sensor.read(); });
    }

    TempDir dir;
};

TEST_F(ExecSensorTest, ReturnsTheJsonObjectTheScriptPrints) {
    auto good = sensor(script("good.sh", R"(echo '  {"co2": 412, "unit": "ppm"}')"
                                         "\necho"));
    EXPECT_EQ(good.read(), R"({"co2": 412, "unit": "ppm"})");
}

TEST_F(ExecSensorTest, PassesQuotedArgumentsUnexpanded) {
    const std::string path = script("args.sh", R"(printf '{"a": "%s", "b": "%s"}' "$1" "$2")");
    auto args = sensor(path + R"( '$HOME' "x  y")");
    EXPECT_EQ(args.read(), R"({"a": "$HOME", "b": "x  y"})");
}

TEST_F(ExecSensorTest, FindsABareProgramNameInPath) {
    auto printf = sensor(R"(printf '{"n": 1}')");
    EXPECT_EQ(printf.read(), R"({"n": 1})");
}

TEST_F(ExecSensorTest, ShellTrueRunsTheCommandThroughBinSh) {
    auto shell = sensor(R"(echo "{\"n\": $((1 + 2))}" | cat)", R"(, "shell": true)");
    EXPECT_EQ(shell.read(), R"({"n": 3})");
}

TEST_F(ExecSensorTest, BadJsonIsAnErrorNamingTheCommandAndShowingTheOutput) {
    const std::string path = script("bad.sh", R"(echo '{"co2": ')");
    auto bad = sensor(path);
    EXPECT_EQ(readError(bad), "command \"" + path +
                                  "\" printed no single JSON object on stdout: \"{\\\"co2\\\":\"");
}

TEST_F(ExecSensorTest, AJsonArrayOrTwoObjectsAreNotAReading) {
    auto array = sensor(script("array.sh", "echo '[1, 2]'"));
    EXPECT_THAT(readError(array), HasSubstr("printed no single JSON object"));
    auto two = sensor(script("two.sh", "echo '{}'; echo '{}'"));
    EXPECT_THAT(readError(two), HasSubstr("printed no single JSON object"));
}

TEST_F(ExecSensorTest, NoOutputIsAnError) {
    const std::string path = script("quiet.sh", "exit 0");
    auto quiet = sensor(path);
    EXPECT_EQ(readError(quiet), "command \"" + path + "\" printed nothing on stdout");
}

TEST_F(ExecSensorTest, OutputOverTheCapIsAnError) {
    const std::string path = script("big.sh", "head -c 10000000 /dev/zero | tr '\\0' x");
    auto big = sensor(path);
    EXPECT_EQ(readError(big), "command \"" + path + "\" printed more than 64 KiB on stdout");
}

TEST_F(ExecSensorTest, NonZeroExitNamesTheCommandStatusAndLastStderrLine) {
    const std::string path =
        script("fail.sh", "echo starting >&2\necho 'no sensor on /dev/ttyUSB0' >&2\nexit 1");
    auto fail = sensor(path);
    EXPECT_EQ(readError(fail),
              "command \"" + path + "\" exited with status 1: \"no sensor on /dev/ttyUSB0\"");
}

TEST_F(ExecSensorTest, DeathBySignalIsAnError) {
    const std::string path = script("killed.sh", "kill -KILL $$");
    auto killed = sensor(path);
    EXPECT_EQ(readError(killed), "command \"" + path + "\" was killed by signal 9 (SIGKILL)");
}

TEST_F(ExecSensorTest, TimeoutKillsTheWholeProcessGroup) {
    const std::string pidFile = (dir / "sleep.pid").string();
    const std::string path = script("hang.sh", "sleep 30 &\necho $! > \"$1\"\nwait");
    auto hang = sensor(path + " " + pidFile, R"(, "timeout": 0.3)");
    EXPECT_EQ(readError(hang), "command \"" + path + " " + pidFile + "\": " + path +
                                   " did not answer within 300 ms (killed)");
    std::string sleepPid;
    std::ifstream(pidFile) >> sleepPid;
    ASSERT_FALSE(sleepPid.empty()) << "the script did not record its sleep";
    // SIGKILL is delivered asynchronously; give the kernel a moment.
    for (int i = 0; i < 100 && !processEnded(sleepPid); ++i) std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(processEnded(sleepPid)) << "sleep " << sleepPid << " survived the timeout";
}

TEST_F(ExecSensorTest, MissingProgramIsAnErrorNamingIt) {
    auto missing = sensor("/nonexistent/read-sensor --fast");
    EXPECT_EQ(readError(missing),
              "command \"/nonexistent/read-sensor --fast\": "
              "/nonexistent/read-sensor not found (ENOENT)");
}

TEST_F(ExecSensorTest, TakesATimeoutAsANumberOrAsTheNumericStringAnOlderHostSends) {
    const std::string path = script("slow.sh", "sleep 30");
    for (const char* timeout : {"0.2", "\"0.2\""}) {
        auto slow = sensor(path, std::string(R"(, "timeout": )") + timeout);
        EXPECT_THAT(readError(slow), HasSubstr("did not answer within 200 ms (killed)")) << timeout;
    }
}

TEST_F(ExecSensorTest, WithoutACommandCreatesButEveryReadSaysWhatIsMissing) {
    ExecSensor unset(Config("{}", kConfigKeys));
    EXPECT_EQ(readError(unset), "no command configured (set sensor.NAME.command)");
}

TEST_F(ExecSensorTest, RefusesTimeoutsOutsideTheRangeAndBadCommands) {
    for (const char* timeout : {"0", "-1", "3601", "\"0\"", "true"}) {
        try {
            sensor("true", std::string(R"(, "timeout": )") + timeout);
            ADD_FAILURE() << "timeout " << timeout << " was accepted";
        } catch (const ConfigError& e) {
            EXPECT_THAT(e.what(), StartsWith("key 'timeout' must be a number")) << timeout;
        }
    }
    EXPECT_THROW(sensor("true", R"(, "timeout": "0.5s")"), ConfigError);
    EXPECT_THROW(sensor("echo 'open"), ConfigError);
    EXPECT_THROW(sensor("cat f | grep x"), ConfigError);
    EXPECT_NO_THROW(sensor("cat f | grep x", R"(, "shell": true)"));
}

}  // namespace
