#include "agent_config.hpp"

#include <fstream>
#include <iterator>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;

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
    EXPECT_EQ(s.read_timeout, std::chrono::seconds(5));
    EXPECT_EQ(s.plugins_dir, "/usr/lib/sensorsys");
    EXPECT_EQ(s.store_connector, "sqlite");
    EXPECT_EQ(s.store_path, "/var/lib/sensorsys/buffer.db");
    EXPECT_EQ(s.sync_url, "http://127.0.0.1:8000");
    EXPECT_EQ(s.sync_batch_size, 360);
    EXPECT_EQ(s.sync_timeout, std::chrono::seconds(5));
    EXPECT_EQ(s.sync_backoff_max, std::chrono::seconds(300));
    EXPECT_TRUE(s.sync_gzip);
    EXPECT_EQ(s.retention_disk_threshold, 50);
    EXPECT_EQ(s.retention_check_interval, std::chrono::seconds(300));
    EXPECT_EQ(s.retention_min_store_mb, 64);
    EXPECT_EQ(s.logging_level, "info");
    EXPECT_TRUE(s.sensors.empty());
}

TEST_F(AgentConfigTest, DeviceIdFromKeyThenEnvironmentThenHostname) {
    EXPECT_EQ(settings("", "pi-shed").device_id, "pi-shed");
    EXPECT_TRUE(settings("", "pi-shed").device_id_is_hostname);
    EXPECT_EQ(settings("from-env", "pi-shed").device_id, "from-env");
    config->setString("agent.device_id", "from-key");
    EXPECT_EQ(settings("from-env", "pi-shed").device_id, "from-key");
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
    EXPECT_THAT(refusal(), HasSubstr("sync.batch_size = '20000': must be at most 10000"));
    config->setString("sync.batch_size", "360");
    config->setString("store.connector", "mysql");
    EXPECT_THAT(refusal(),
                HasSubstr("store.connector = 'mysql': must be one of sqlite|postgresql"));
    config->setString("store.connector", "postgresql");
    EXPECT_THAT(refusal(), HasSubstr("store.connection = '': must be set when"));
    config->setString("store.connector", "sqlite");
    config->setString("sync.url", "ftp://example");
    EXPECT_THAT(refusal(), HasSubstr("sync.url = 'ftp://example': must be an http:// or https://"));
    config->setString("sync.url", "http://127.0.0.1:8000");
    config->setString("sync.gzip", "yes");
    EXPECT_THAT(refusal(), HasSubstr("sync.gzip = 'yes': must be true or false"));
    config->setString("sync.gzip", "false");
    config->setString("retention.disk_threshold", "120");
    EXPECT_THAT(refusal(), HasSubstr("retention.disk_threshold = '120'"));
}

TEST_F(AgentConfigTest, UnknownKeyInAgentNamespaceIsRefused) {
    config->setString("sync.batchsize", "100");
    EXPECT_THAT(refusal(), HasSubstr("unknown key 'sync.batchsize'"));
}

TEST_F(AgentConfigTest, EveryPluginGetsOneInstanceByDefault) {
    config->setString("sensor.disk.path", "/data");
    const auto specs = sensorSpecs(*config, settings(), {"bme280", "disk"});
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "bme280");
    EXPECT_EQ(specs[0].plugin, "bme280");
    EXPECT_EQ(specs[0].config_json, "{}");
    EXPECT_EQ(specs[1].config_json, R"({"path":"/data"})");
}

TEST_F(AgentConfigTest, ExplicitInstancesShareOnePlugin) {
    config->setString("sensors", "indoor, outdoor");
    config->setString("sensor.indoor.plugin", "bme280");
    config->setString("sensor.indoor.address", "0x76");
    config->setString("sensor.outdoor.plugin", "bme280");
    config->setString("sensor.outdoor.address", "0x77");
    config->setString("sensor.outdoor.interval", "10");
    config->setString("sensor.outdoor.enabled", "false");
    const auto specs = sensorSpecs(*config, settings(), {"bme280", "disk"});
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[0].name, "indoor");
    EXPECT_EQ(specs[0].plugin, "bme280");
    EXPECT_EQ(specs[0].config_json, R"({"address":118})");
    EXPECT_TRUE(specs[0].enabled);
    EXPECT_FALSE(specs[0].interval.has_value());
    EXPECT_EQ(specs[1].config_json, R"({"address":119})");
    EXPECT_EQ(specs[1].interval, std::chrono::seconds(10));
    EXPECT_FALSE(specs[1].enabled);
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
    for (const auto& key : agentConfigKeys()) EXPECT_THAT(help, HasSubstr(std::string(key.name)));
    EXPECT_THAT(help, HasSubstr("agent.interval (default: 60)"));
}

}  // namespace
}  // namespace sensorsys::agent

namespace sensorsys::agent {
namespace {

// etc/agent.properties is what users read: it must document every key with its default.
TEST(ConfigFile, ShippedPropertiesDocumentEveryKeyWithItsDefault) {
    std::ifstream in(std::string(SENSORSYS_SOURCE_DIR) + "/etc/agent.properties");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty());
    for (const auto& key : agentConfigKeys()) {
        const std::string line = "#" + std::string(key.name) + " =" +
                                 (key.fallback.empty() ? "" : " " + std::string(key.fallback));
        EXPECT_THAT(text, HasSubstr(line + "\n")) << key.name;
    }
}

}  // namespace
}  // namespace sensorsys::agent
