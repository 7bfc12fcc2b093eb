// The built ds18b20.so, loaded through the agent's own loader, reading folders shaped like the
// kernel's /sys/bus/w1/devices: several probes, a CRC failure, the 85 °C power-on value, a
// probe whose file vanished, and a missing folder.
#include "built_plugin.hpp"
#include "plugin_call.hpp"
#include "test_support.hpp"

#include <sensorsys/plugin.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace {

using sensorsys::test::PluginInstance;
using sensorsys::test::tryCreate;
using testing::HasSubstr;
using testing::StartsWith;

constexpr const char* kGood = "28-0316a2794dff";
constexpr const char* kCrcFails = "28-0316a2794e00";
constexpr const char* kPowerOn = "28-0416b1c2d3e4";

// What w1_therm writes for a probe: the scratchpad, the CRC verdict, the millidegrees.
std::string w1Slave(bool crcOk, long millicelsius) {
    return std::string("72 01 4b 46 7f ff 0e 10 57 : crc=57 ") + (crcOk ? "YES" : "NO") +
           "\n72 01 4b 46 7f ff 0e 10 57 t=" + std::to_string(millicelsius) + "\n";
}

Poco::JSON::Object::Ptr parse(const std::string& json) {
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

class Ds18b20Plugin : public testing::Test {
  protected:
    void SetUp() override {
        _module = std::make_unique<sensorsys::test::BuiltPlugin>(SENSORSYS_PLUGIN_BUILD_DIR,
                                                                 "ds18b20.so");
        plugin = &_module->descriptor();
        // The bus master sits beside the probes in the real folder and is not a probe.
        std::filesystem::create_directories(dir / "w1_bus_master1");
    }

    void addProbe(const std::string& id, const std::string& content) {
        std::filesystem::create_directories(dir / id);
        sensorsys::test::writeFile(dir / id / "w1_slave", content);
    }

    std::string config(const std::string& extra = "") const {
        return R"({"w1_path": ")" + dir.path().string() + "\"" + extra + "}";
    }

    sensorsys::test::TempDir dir;
    const sensorsys_plugin_descriptor* plugin = nullptr;

  private:
    std::unique_ptr<sensorsys::test::BuiltPlugin> _module;
};

TEST_F(Ds18b20Plugin, DescribesItselfAndDeclaresItsKeys) {
    EXPECT_STREQ(plugin->name, "ds18b20");
    EXPECT_EQ(plugin->abi_minor, SENSORSYS_ABI_MINOR);
    ASSERT_NE(plugin->config_keys, nullptr);
    EXPECT_STREQ(plugin->config_keys[0].name, "w1_path");
    EXPECT_STREQ(plugin->config_keys[0].default_value, "/sys/bus/w1/devices");
    EXPECT_STREQ(plugin->config_keys[1].name, "id");
    EXPECT_STREQ(plugin->config_keys[1].type, "string");
    EXPECT_EQ(plugin->config_keys[2].name, nullptr);
}

TEST_F(Ds18b20Plugin, ReadsEveryProbeOneKeyEachWithFailuresInTheirKeys) {
    addProbe(kGood, w1Slave(true, 21562));
    addProbe(kCrcFails, w1Slave(false, 21562));
    addProbe(kPowerOn, w1Slave(true, 85000));
    PluginInstance instance(*plugin, config());
    const auto reading = instance.read();
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    const auto payload = parse(reading.text);
    EXPECT_EQ(payload->size(), 3u);
    EXPECT_DOUBLE_EQ(payload->getObject(kGood)->getValue<double>("c"), 21.56);
    EXPECT_DOUBLE_EQ(payload->getObject(kGood)->getValue<double>("f"), 70.81);
    const std::string crc = payload->getObject(kCrcFails)->getValue<std::string>("error");
    EXPECT_THAT(crc, HasSubstr("CRC"));
    EXPECT_THAT(crc, HasSubstr(kCrcFails));
    const std::string powerOn = payload->getObject(kPowerOn)->getValue<std::string>("error");
    EXPECT_THAT(powerOn, HasSubstr("85.000"));
    EXPECT_THAT(powerOn, HasSubstr("power-on"));
    EXPECT_THAT(powerOn, HasSubstr(kPowerOn));
}

TEST_F(Ds18b20Plugin, WithAnIdReadsThatProbeOnlyAsAFlatObject) {
    addProbe(kGood, w1Slave(true, 21562));
    addProbe("28-000000000001", w1Slave(true, 30000));
    PluginInstance instance(*plugin, config(R"(, "id": ")" + std::string(kGood) + "\""));
    const auto reading = instance.read();
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    EXPECT_EQ(reading.text, R"({"c": 21.56, "f": 70.81})");
}

TEST_F(Ds18b20Plugin, RoundsHalfAwayFromZeroAndKeepsADecimalPoint) {
    addProbe(kGood, w1Slave(true, -10125));
    addProbe("28-000000000001", w1Slave(true, 25000));
    PluginInstance instance(*plugin, config());
    const auto reading = instance.read();
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    // -10.125 °C is 13.775 °F; both round half away from zero.
    EXPECT_EQ(
        reading.text,
        R"({"28-000000000001": {"c": 25.0, "f": 77.0}, "28-0316a2794dff": {"c": -10.13, "f": 13.78}})");
}

TEST_F(Ds18b20Plugin, CrcFailureOfTheChosenProbeIsAReadErrorSayingCrc) {
    addProbe(kCrcFails, w1Slave(false, 20000));
    PluginInstance instance(*plugin, config(R"(, "id": ")" + std::string(kCrcFails) + "\""));
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_THAT(reading.text, StartsWith(std::string("probe ") + kCrcFails + ": CRC check failed"));
}

TEST_F(Ds18b20Plugin, ProbeWhoseFileDisappearedReportsThePathAndErrno) {
    addProbe(kGood, w1Slave(true, 21562));
    addProbe(kCrcFails, w1Slave(true, 20000));
    PluginInstance instance(*plugin, config());
    ASSERT_EQ(instance.read().status, SENSORSYS_OK);
    std::filesystem::remove(dir / kCrcFails / "w1_slave");  // unplugged: the kernel drops it
    const auto reading = instance.read();
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    const auto payload = parse(reading.text);
    EXPECT_DOUBLE_EQ(payload->getObject(kGood)->getValue<double>("c"), 21.56);
    EXPECT_THAT(payload->getObject(kCrcFails)->getValue<std::string>("error"),
                HasSubstr((dir / kCrcFails / "w1_slave").string() + ": ENOENT"));
}

TEST_F(Ds18b20Plugin, EveryProbeFailingIsAReadError) {
    addProbe(kPowerOn, w1Slave(true, 85000));
    PluginInstance instance(*plugin, config());
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_THAT(reading.text, HasSubstr("none of the 1 DS18B20 probes in " + dir.path().string()));
    EXPECT_THAT(reading.text, HasSubstr("power-on"));
}

TEST_F(Ds18b20Plugin, MissingFolderIsAReadErrorNamingItAndErrno) {
    PluginInstance instance(*plugin, R"({"w1_path": "/nonexistent/w1/devices"})");
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_THAT(reading.text,
                StartsWith("cannot open 1-Wire device folder /nonexistent/w1/devices: ENOENT"));
    EXPECT_THAT(reading.text, HasSubstr("dtoverlay=w1-gpio"));
}

TEST_F(Ds18b20Plugin, FolderWithoutProbesIsAReadErrorNamingIt) {
    PluginInstance instance(*plugin, config());
    const auto reading = instance.read();
    EXPECT_EQ(reading.status, SENSORSYS_READ_FAILED);
    EXPECT_EQ(reading.text, "no DS18B20 probe (28-*) in " + dir.path().string());
}

TEST_F(Ds18b20Plugin, TooSmallBufferGetsTheSameReadingOnTheRetry) {
    addProbe(kGood, w1Slave(true, 21562));
    PluginInstance instance(*plugin, config());
    std::size_t needed = 0;
    ASSERT_EQ(instance.readOnce(4, &needed), SENSORSYS_BUFFER_TOO_SMALL);
    // The retry must not read the probe again: the first reading is what the host gets.
    sensorsys::test::writeFile(dir / kGood / "w1_slave", w1Slave(true, 30000));
    const auto reading = instance.read(needed);
    ASSERT_EQ(reading.status, SENSORSYS_OK) << reading.text;
    EXPECT_EQ(reading.text.size(), needed);
    EXPECT_THAT(reading.text, HasSubstr(R"("c": 21.56)"));
}

TEST_F(Ds18b20Plugin, RefusesUnknownKeysNonStringsAndBadValues) {
    auto refused = tryCreate(*plugin, R"({"pin": "4"})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_EQ(refused.text, "unknown key 'pin' (allowed: w1_path, id)");
    refused = tryCreate(*plugin, R"({"w1_path": 4})");
    EXPECT_EQ(refused.status, SENSORSYS_INVALID_CONFIG);
    EXPECT_EQ(refused.text, "key 'w1_path' must be a string");
    refused = tryCreate(*plugin, R"({"w1_path": "sys/bus"})");
    EXPECT_THAT(refused.text, HasSubstr("'w1_path' must be an absolute"));
    refused = tryCreate(*plugin, R"({"id": "28-xyz"})");
    EXPECT_THAT(refused.text, HasSubstr("'id' must be a DS18B20 id"));
    refused = tryCreate(*plugin, R"({"id": "", "id": ""})");
    EXPECT_THAT(refused.text, HasSubstr("given twice"));
    EXPECT_EQ(tryCreate(*plugin, "[]").status, SENSORSYS_INVALID_CONFIG);
    EXPECT_EQ(tryCreate(*plugin, R"({"id": ""} x)").status, SENSORSYS_INVALID_CONFIG);
}

TEST_F(Ds18b20Plugin, AcceptsEmptyAndEscapedConfigurations) {
    EXPECT_EQ(tryCreate(*plugin, "{}").status, SENSORSYS_OK);
    EXPECT_EQ(tryCreate(*plugin, " { \"w1_path\" : \"\\/sys\\/bus\" , \"id\":\"\" } ").status,
              SENSORSYS_OK);
}

}  // namespace
