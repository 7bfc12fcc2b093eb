#include "agent_config.hpp"

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;

// Plugins built against ABI 1.0: they declare no keys, so every key passes through.
std::vector<PluginKeys> abi10(const std::vector<std::string>& names) {
    std::vector<PluginKeys> plugins;
    for (const auto& name : names) plugins.push_back({name, std::nullopt});
    return plugins;
}

// An ABI 1.1 bme280 as it declares its keys, plus a plugin with one key of each other type.
std::vector<PluginKeys> declaring() {
    return {{"bme280", std::vector<PluginConfigKey>{{"bus", "string", "/dev/i2c-1", "bus"},
                                                    {"address", "string", "auto", "address"}}},
            {"typed", std::vector<PluginConfigKey>{{"count", "integer", "1", ""},
                                                   {"scale", "number", "1.5", ""},
                                                   {"on", "boolean", "true", ""}}}};
}

class AgentConfigTest : public ::testing::Test {
  protected:
    AgentSettings settings(const std::string& env_device = "", const std::string& host = "host1") {
        return AgentSettings::from(*config, env_device, host);
    }
    std::string refusal() {
        try {
            settings();
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(accepted)";
    }
    Poco::AutoPtr<Poco::Util::MapConfiguration> config =
        Poco::makeAuto<Poco::Util::MapConfiguration>();
};

TEST_F(AgentConfigTest, DefaultsFollowTheContract) {
    const AgentSettings s = settings();
    EXPECT_EQ(s.interval, std::chrono::seconds(60));
    EXPECT_EQ(s.readTimeout, std::chrono::seconds(5));
    EXPECT_EQ(s.pluginsDir, "/usr/lib/sensorsys");
    EXPECT_EQ(s.storeConnector, "sqlite");
    EXPECT_EQ(s.storePath, "/var/lib/sensorsys/buffer.db");
    EXPECT_EQ(s.syncUrl, "http://127.0.0.1:8000");
    EXPECT_EQ(s.syncBatchSize, 360);
    EXPECT_EQ(s.syncTimeout, std::chrono::seconds(5));
    EXPECT_EQ(s.syncBackoffMax, std::chrono::seconds(300));
    EXPECT_TRUE(s.syncGzip);
    EXPECT_EQ(s.retentionDiskThreshold, 50);
    EXPECT_EQ(s.retentionCheckInterval, std::chrono::seconds(300));
    EXPECT_EQ(s.retentionMinStoreMb, 64);
    EXPECT_EQ(s.loggingLevel, "info");
    EXPECT_TRUE(s.sensors.empty());
}

TEST_F(AgentConfigTest, DeviceIdFromKeyThenEnvironmentThenHostname) {
    EXPECT_EQ(settings("", "pi-shed").deviceId, "pi-shed");
    EXPECT_TRUE(settings("", "pi-shed").deviceIdIsHostname);
    EXPECT_EQ(settings("from-env", "pi-shed").deviceId, "from-env");
    config->setString("agent.device_id", "from-key");
    EXPECT_EQ(settings("from-env", "pi-shed").deviceId, "from-key");
}

TEST_F(AgentConfigTest, FractionalIntervalIsAllowed) {
    config->setString("agent.interval", "0.1");
    EXPECT_EQ(settings().interval, std::chrono::milliseconds(100));
}

TEST_F(AgentConfigTest, InvalidValuesNameTheKeyAndWhatIsAllowed) {
    config->setString("agent.interval", "soon");
    EXPECT_EQ(refusal(),
              "invalid configuration: agent.interval = 'soon': must be a number of seconds from "
              "0.001 to 604800");
    config->setString("agent.interval", "1");
    config->setString("sync.batch_size", "0");
    EXPECT_THAT(refusal(), HasSubstr("sync.batch_size = '0': must be a whole number"));
    config->setString("sync.batch_size", "20000");
    EXPECT_THAT(refusal(),
                HasSubstr("sync.batch_size = '20000': must be a whole number from 1 to 10000"));
    config->setString("sync.batch_size", "360");
    config->setString("store.connector", "mysql");
    EXPECT_THAT(refusal(),
                HasSubstr("store.connector = 'mysql': must be one of sqlite or postgresql"));
    config->setString("store.connector", "postgresql");
    EXPECT_THAT(refusal(), HasSubstr("store.connection = '': must be set when"));
    config->setString("store.connector", "sqlite");
    config->setString("sync.url", "ftp://example");
    EXPECT_THAT(refusal(), HasSubstr("sync.url = 'ftp://example': must be an http:// or https://"));
    config->setString("sync.url", "http://127.0.0.1:8000");
    config->setString("sync.gzip", "maybe");
    EXPECT_THAT(refusal(), HasSubstr("sync.gzip = 'maybe': must be true or false"));
    config->setString("sync.gzip", "false");
    config->setString("retention.disk_threshold", "120");
    EXPECT_THAT(refusal(), HasSubstr("retention.disk_threshold = '120'"));
    config->setString("retention.disk_threshold", "0");
    EXPECT_THAT(refusal(), HasSubstr("must be a number above 0 and at most 100"));
}

TEST_F(AgentConfigTest, UnknownKeyInAgentNamespaceIsRefused) {
    config->setString("sync.batchsize", "100");
    EXPECT_THAT(refusal(),
                HasSubstr("unknown key 'sync.batchsize' (nearest known key: sync.batch_size)"));
}

TEST_F(AgentConfigTest, UnknownNestedKeyIsRefusedToo) {
    config->setString("logging.level.extra", "x");
    EXPECT_THAT(refusal(), HasSubstr("unknown key 'logging.level.extra'"));
}

TEST_F(AgentConfigTest, BooleansTakeTheUsualSpellings) {
    config->setString("sync.gzip", "No");
    EXPECT_FALSE(settings().syncGzip);
}

TEST_F(AgentConfigTest, EveryPluginGetsOneInstanceByDefault) {
    config->setString("sensor.disk.path", "/data");
    const auto specs = sensorSpecs(*config, settings(), abi10({"bme280", "disk"}));
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "bme280");
    EXPECT_EQ(specs[0].plugin, "bme280");
    EXPECT_EQ(specs[0].configJson, "{}");
    EXPECT_EQ(specs[1].configJson, R"({"path":"/data"})");
}

TEST_F(AgentConfigTest, ExplicitInstancesShareOnePlugin) {
    config->setString("sensors", "indoor, outdoor");
    config->setString("sensor.indoor.plugin", "bme280");
    config->setString("sensor.indoor.address", "0x76");
    config->setString("sensor.outdoor.plugin", "bme280");
    config->setString("sensor.outdoor.address", "0x77");
    config->setString("sensor.outdoor.interval", "10");
    config->setString("sensor.outdoor.enabled", "false");
    const auto specs = sensorSpecs(*config, settings(), abi10({"bme280", "disk"}));
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "indoor");
    EXPECT_EQ(specs[0].plugin, "bme280");
    EXPECT_EQ(specs[0].configJson, R"({"address":118})");
    EXPECT_TRUE(specs[0].enabled);
    EXPECT_FALSE(specs[0].interval.has_value());
    EXPECT_EQ(specs[1].configJson, R"({"address":119})");
    EXPECT_EQ(specs[1].interval, std::chrono::seconds(10));
    EXPECT_FALSE(specs[1].enabled);
}

TEST_F(AgentConfigTest, DeclaredStringKeysStayStrings) {
    config->setString("sensor.bme280.address", "0x76");
    config->setString("sensor.bme280.bus", "42");
    const auto specs = sensorSpecs(*config, settings(), declaring());
    EXPECT_EQ(specs[0].configJson, R"({"address":"0x76","bus":"42"})");
}

TEST_F(AgentConfigTest, DeclaredTypesConvertAndRefuseWhatIsNotOfTheType) {
    config->setString("sensors", "t");
    config->setString("sensor.t.plugin", "typed");
    config->setString("sensor.t.count", "0x10");
    config->setString("sensor.t.scale", "2.5");
    config->setString("sensor.t.on", "false");
    EXPECT_EQ(sensorSpecs(*config, settings(), declaring())[0].configJson,
              R"({"count":16,"on":false,"scale":2.5})");
    config->setString("sensor.t.count", "many");
    try {
        sensorSpecs(*config, settings(), declaring());
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("sensor.t.count = 'many': must be a whole number"));
    }
}

TEST_F(AgentConfigTest, KeyTheLoadedPluginDidNotDeclareIsRefusedNamingTheDeclaredOnes) {
    config->setString("sensor.bme280.adress", "0x76");
    try {
        sensorSpecs(*config, settings(), declaring());
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("unknown key 'sensor.bme280.adress': plugin bme280 "
                                        "declares bus, address"));
    }
}

TEST_F(AgentConfigTest, KeysOfAnAbi10PluginPassThroughAsBefore) {
    config->setString("sensor.bme280.adress", "0x76");
    EXPECT_EQ(sensorSpecs(*config, settings(), abi10({"bme280"}))[0].configJson,
              R"({"adress":118})");
}

TEST_F(AgentConfigTest, BadInstanceKeysAreNamed) {
    config->setString("sensors", "x");
    config->setString("sensor.x.enabled", "maybe");
    EXPECT_THROW(
        {
            try {
                sensorSpecs(*config, settings(), {});
            } catch (const ConfigError& e) {
                EXPECT_THAT(e.what(), HasSubstr("sensor.x.enabled = 'maybe'"));
                throw;
            }
        },
        ConfigError);
    config->setString("sensor.x.enabled", "true");
    config->setString("sensor.x.interval", "-1");
    EXPECT_THROW(sensorSpecs(*config, settings(), {}), ConfigError);
}

TEST_F(AgentConfigTest, InstanceNamesAreChecked) {
    config->setString("sensors", "ok_name, bad/name");
    EXPECT_THAT(refusal(), HasSubstr("sensors = 'bad/name'"));
}

TEST(PluginConfigValue, IntegersBooleansAndStrings) {
    EXPECT_EQ(pluginConfigValueJson("0x76"), "118");
    EXPECT_EQ(pluginConfigValueJson("42"), "42");
    EXPECT_EQ(pluginConfigValueJson("-3"), "-3");
    EXPECT_EQ(pluginConfigValueJson("true"), "true");
    EXPECT_EQ(pluginConfigValueJson("false"), "false");
    EXPECT_EQ(pluginConfigValueJson("/dev/i2c-1"), R"("/dev/i2c-1")");
    EXPECT_EQ(pluginConfigValueJson("auto"), R"("auto")");
    EXPECT_EQ(pluginConfigValueJson("1.5"), R"("1.5")");
}

TEST(ConfigHelp, ListsEveryKeyWithItsDefault) {
    const std::string help = configKeysHelp();
    for (const auto& key : agentConfigKeys().keys()) {
        EXPECT_THAT(help, HasSubstr("  " + std::string(key.name) + " (default: "));
        EXPECT_THAT(help, HasSubstr(std::string(key.description)));
    }
    EXPECT_THAT(help, HasSubstr("agent.interval (default: 60)"));
}

}  // namespace
}  // namespace sensorsys::agent

namespace sensorsys::agent {
namespace {

// etc/agent.properties is what users read: it must document every key with its default, and
// nothing the agent does not know (sensor.NAME.* examples aside).
TEST(ConfigFile, ShippedPropertiesDocumentEveryKeyWithItsDefaultAndNoOther) {
    std::ifstream in(std::string(SENSORSYS_SOURCE_DIR) + "/etc/agent.properties");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty());
    std::set<std::string> documented;
    const std::regex line("^#?([a-z_][a-z0-9_.]*) =(.*)$");
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
        std::smatch match;
        if (std::regex_match(l, match, line) && match[1].str().rfind("sensor.", 0) != 0) {
            documented.insert(match[1]);
        }
    }
    for (const auto& key : agentConfigKeys().keys()) {
        const std::string line =
            "#" + std::string(key.name) + " =" +
            (key.defaultValue.empty() ? "" : " " + std::string(key.defaultValue));
        EXPECT_THAT(text, HasSubstr(line + "\n")) << key.name;
        documented.erase(std::string(key.name));
    }
    EXPECT_TRUE(documented.empty()) << "documented but not declared: " << *documented.begin();
}

}  // namespace
}  // namespace sensorsys::agent
