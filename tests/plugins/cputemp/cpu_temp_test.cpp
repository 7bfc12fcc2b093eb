#include "cpu_temp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "error_of.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using sensorsys::cputemp::CpuThermometer;
using sensorsys::cputemp::FileReader;
using sensorsys::cputemp::formatReading;
using sensorsys::cputemp::kConfigKeys;
using sensorsys::cputemp::parseMeasureTemp;
using sensorsys::cputemp::parseMillidegrees;
using sensorsys::cputemp::Settings;
using sensorsys::cputemp::Source;
using sensorsys::plugin::CommandResult;
using sensorsys::plugin::CommandRunner;
using sensorsys::plugin::Config;
using sensorsys::plugin::ConfigError;
using sensorsys::plugin::ReadError;
using testing::AllOf;
using testing::HasSubstr;
using testing::StartsWith;
using namespace std::chrono_literals;

const std::string kDataDir = std::string(SENSORSYS_TEST_DATA_DIR) + "/cputemp";
const std::string kSysfsFixture = kDataDir + "/thermal_zone0_temp";  // 48312
const std::string kMissing = "/nonexistent/sensorsys";

using sensorsys::test::errorOf;

std::string readError(const CpuThermometer& thermometer) {
    return errorOf<ReadError>([&] { thermometer.celsius(); });
}

std::string configError(const std::string& json) {
    return errorOf<ConfigError>([&] { Settings::fromConfig(Config(json.c_str(), kConfigKeys)); });
}

Settings settings(Source source, const std::string& vcgencmd, const std::string& sysfsPath) {
    Settings result;
    result.source = source;
    result.vcgencmd = vcgencmd;
    result.sysfsPath = sysfsPath;
    return result;
}

// --- parsing and output --------------------------------------------------------------------

TEST(CpuTempParse, MeasureTempToleratesSurroundingWhitespace) {
    EXPECT_DOUBLE_EQ(parseMeasureTemp("temp=55.8'C\n"), 55.8);
    EXPECT_DOUBLE_EQ(parseMeasureTemp("temp=48.3'C"), 48.3);
    EXPECT_DOUBLE_EQ(parseMeasureTemp("  temp=-4.0'C\r\n"), -4.0);
}

TEST(CpuTempParse, MeasureTempRefusesAnythingElseQuotingIt) {
    EXPECT_EQ(errorOf<ReadError>([] { parseMeasureTemp("throttled=0x0\n"); }),
              "unexpected output \"throttled=0x0\\n\" (expected temp=<number>'C)");
    for (const char* bad : {"", "temp='C", "temp=55.8", "temp=55.8'F", "temp=55.8'C extra",
                            "temp=abc'C", "temp=nan'C", "temp=inf'C", "temp=+5'C", "55.8'C"}) {
        EXPECT_THROW(parseMeasureTemp(bad), ReadError) << bad;
    }
}

TEST(CpuTempParse, Millidegrees) {
    EXPECT_DOUBLE_EQ(parseMillidegrees("48312\n"), 48.312);
    EXPECT_DOUBLE_EQ(parseMillidegrees("0"), 0.0);
    EXPECT_DOUBLE_EQ(parseMillidegrees("-5500\n"), -5.5);
}

TEST(CpuTempParse, MillidegreesRefusesGarbageQuotingIt) {
    EXPECT_EQ(errorOf<ReadError>([] { parseMillidegrees("n/a\n"); }),
              "unexpected content \"n/a\\n\" (expected millidegrees Celsius)");
    for (const char* bad : {"", "\n", "48.3", "48312 12", "0x10", "99999999999999999999"}) {
        EXPECT_THROW(parseMillidegrees(bad), ReadError) << bad;
    }
}

TEST(CpuTempFormat, RoundsBothFromUnroundedCelsius) {
    EXPECT_EQ(formatReading(48.312), R"({"c": 48.31, "f": 118.96})");
    // f from the rounded c (48.31) would be 118.958 -> 118.96; from the real one 118.9652.
    EXPECT_EQ(formatReading(48.314), R"({"c": 48.31, "f": 118.97})");
    EXPECT_EQ(formatReading(55.8), R"({"c": 55.8, "f": 132.44})");
}

TEST(CpuTempFormat, WholeNumbersStayFloats) {
    EXPECT_EQ(formatReading(50.0), R"({"c": 50.0, "f": 122.0})");
    EXPECT_EQ(formatReading(-40.0), R"({"c": -40.0, "f": -40.0})");
}

// --- configuration -------------------------------------------------------------------------

TEST(CpuTempConfig, Defaults) {
    const Settings defaults = Settings::fromConfig(Config("{}", kConfigKeys));
    EXPECT_EQ(defaults.source, Source::automatic);
    EXPECT_EQ(defaults.sysfsPath, "/sys/class/thermal/thermal_zone0/temp");
    EXPECT_THAT(defaults.vcgencmd, AllOf(StartsWith("/"), testing::EndsWith("/vcgencmd")));
    EXPECT_EQ(defaults.timeout, 2s);
}

TEST(CpuTempConfig, AcceptsEveryKey) {
    const Settings s = Settings::fromConfig(
        Config(R"({"source": "sysfs", "vcgencmd": "/opt/vc/bin/vcgencmd", "sysfs_path": "/tmp/t"})",
               kConfigKeys));
    EXPECT_EQ(s.source, Source::sysfs);
    EXPECT_EQ(s.vcgencmd, "/opt/vc/bin/vcgencmd");
    EXPECT_EQ(s.sysfsPath, "/tmp/t");
    EXPECT_EQ(Settings::fromConfig(Config(R"({"source": "vcgencmd"})", kConfigKeys)).source,
              Source::vcgencmd);
    EXPECT_EQ(Settings::fromConfig(Config(R"({"source": "auto"})", kConfigKeys)).source,
              Source::automatic);
}

TEST(CpuTempConfig, RefusesUnknownKeyNamingIt) {
    EXPECT_THAT(configError(R"({"sorce": "sysfs"})"),
                AllOf(HasSubstr("'sorce'"), HasSubstr("source, vcgencmd, sysfs_path")));
}

TEST(CpuTempConfig, RefusesBadSourceListingAllowedValues) {
    EXPECT_EQ(configError(R"({"source": "i2c"})"),
              "key 'source' must be one of auto, vcgencmd, sysfs, got \"i2c\"");
}

TEST(CpuTempConfig, RefusesWrongTypesAndEmptyPaths) {
    EXPECT_THAT(configError(R"({"sysfs_path": 5})"), HasSubstr("'sysfs_path'"));
    EXPECT_THAT(configError(R"({"source": true})"), HasSubstr("'source'"));
    EXPECT_THAT(configError(R"({"vcgencmd": ""})"), HasSubstr("'vcgencmd'"));
    EXPECT_THAT(configError(R"({"sysfs_path": ""})"), HasSubstr("'sysfs_path'"));
}

// --- sysfs against fixture files -----------------------------------------------------------

TEST(CpuTempSysfs, ReadsFixture) {
    EXPECT_DOUBLE_EQ(CpuThermometer(settings(Source::sysfs, kMissing, kSysfsFixture)).celsius(),
                     48.312);
}

TEST(CpuTempSysfs, MissingFileNamesSourcePathAndErrno) {
    EXPECT_EQ(readError(CpuThermometer(settings(Source::sysfs, kMissing, kMissing))),
              "sysfs: cannot read " + kMissing + ": ENOENT: No such file or directory");
}

TEST(CpuTempSysfs, GarbageNamesFileAndQuotesContent) {
    const std::string garbage = kDataDir + "/temp-garbage";
    EXPECT_EQ(
        readError(CpuThermometer(settings(Source::sysfs, kMissing, garbage))),
        "sysfs: " + garbage + ": unexpected content \"n/a\\n\" (expected millidegrees Celsius)");
}

TEST(CpuTempSysfs, DirectoryIsAReadError) {
    EXPECT_EQ(readError(CpuThermometer(settings(Source::sysfs, kMissing, kDataDir))),
              "sysfs: cannot read " + kDataDir + ": EISDIR: Is a directory");
}

// --- vcgencmd against fake scripts ---------------------------------------------------------

TEST(CpuTempVcgencmd, ParsesFakeOutput) {
    const CpuThermometer thermometer(
        settings(Source::vcgencmd, kDataDir + "/vcgencmd-ok", kSysfsFixture));
    EXPECT_DOUBLE_EQ(thermometer.celsius(), 55.8);
}

TEST(CpuTempVcgencmd, GarbageIsQuoted) {
    EXPECT_EQ(readError(CpuThermometer(
                  settings(Source::vcgencmd, kDataDir + "/vcgencmd-garbage", kSysfsFixture))),
              "vcgencmd: unexpected output \"throttled=0x0\\n\" (expected temp=<number>'C)");
}

TEST(CpuTempVcgencmd, FailureNamesStatusAndStderr) {
    const std::string fake = kDataDir + "/vcgencmd-fail";
    EXPECT_EQ(readError(CpuThermometer(settings(Source::vcgencmd, fake, kSysfsFixture))),
              "vcgencmd: " + fake + " exited with status 1: \"VCHI initialization failed\"");
}

TEST(CpuTempVcgencmd, MissingCommandIsENOENT) {
    EXPECT_EQ(readError(CpuThermometer(settings(Source::vcgencmd, kMissing, kSysfsFixture))),
              "vcgencmd: " + kMissing + " not found (ENOENT)");
}

TEST(CpuTempVcgencmd, HungCommandIsKilledAtTheTimeout) {
    const std::string fake = kDataDir + "/vcgencmd-hang";
    const CpuThermometer thermometer(settings(Source::vcgencmd, fake, kSysfsFixture));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(readError(thermometer), "vcgencmd: " + fake + " did not answer within 2 s (killed)");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// --- auto ----------------------------------------------------------------------------------

TEST(CpuTempAuto, PrefersVcgencmd) {
    const CpuThermometer thermometer(
        settings(Source::automatic, kDataDir + "/vcgencmd-ok", kSysfsFixture));
    EXPECT_DOUBLE_EQ(thermometer.celsius(), 55.8);
}

TEST(CpuTempAuto, FallsBackToSysfsWhenVcgencmdIsMissing) {
    EXPECT_DOUBLE_EQ(CpuThermometer(settings(Source::automatic, kMissing, kSysfsFixture)).celsius(),
                     48.312);
}

TEST(CpuTempAuto, FallsBackToSysfsWhenVcgencmdFails) {
    const CpuThermometer thermometer(
        settings(Source::automatic, kDataDir + "/vcgencmd-fail", kSysfsFixture));
    EXPECT_DOUBLE_EQ(thermometer.celsius(), 48.312);
}

TEST(CpuTempAuto, ReportsBothCausesWhenNeitherWorks) {
    EXPECT_EQ(readError(CpuThermometer(settings(Source::automatic, kMissing, kMissing))),
              "no CPU temperature source worked: vcgencmd: " + kMissing +
                  " not found (ENOENT); sysfs: cannot read " + kMissing +
                  ": ENOENT: No such file or directory");
}

// --- the seams, with fakes for what the real code cannot provoke ----------------------------

// Records what the thermometer asks for and answers like a healthy Pi.
class RecordingRunner final : public CommandRunner {
  public:
    RecordingRunner(std::vector<std::string>* argv, std::chrono::milliseconds* timeout)
        : _argv(argv), _timeout(timeout) {}
    CommandResult run(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout) const override {
        *_argv = argv;
        *_timeout = timeout;
        return CommandResult{0, "temp=61.2'C\n", ""};
    }

  private:
    std::vector<std::string>* _argv;
    std::chrono::milliseconds* _timeout;
};

// A thermal driver that lost its sensor.
class FailingReader final : public FileReader {
  public:
    std::string read(const std::string& path) const override {
        throw ReadError("cannot read " + path + ": EIO: Input/output error");
    }
};

TEST(CpuTempSeams, RunsMeasureTempWithTheTimeout) {
    std::vector<std::string> argv;
    std::chrono::milliseconds timeout{};
    const CpuThermometer thermometer(settings(Source::vcgencmd, "/usr/bin/vcgencmd", kMissing),
                                     std::make_unique<RecordingRunner>(&argv, &timeout),
                                     std::make_unique<FailingReader>());
    EXPECT_DOUBLE_EQ(thermometer.celsius(), 61.2);
    EXPECT_EQ(argv, (std::vector<std::string>{"/usr/bin/vcgencmd", "measure_temp"}));
    EXPECT_EQ(timeout, 2s);
}

TEST(CpuTempSeams, ReaderErrorIsPrefixedWithTheSource) {
    const CpuThermometer thermometer(settings(Source::sysfs, kMissing, "/sys/x/temp"),
                                     std::make_unique<RecordingRunner>(nullptr, nullptr),
                                     std::make_unique<FailingReader>());
    EXPECT_EQ(readError(thermometer), "sysfs: cannot read /sys/x/temp: EIO: Input/output error");
}

}  // namespace
