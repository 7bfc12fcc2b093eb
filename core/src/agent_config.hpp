// The agent's configuration: every key declared once (name, default, description, allowed
// values), validation that names the key and what is allowed, and the sensor instances the
// configuration asks for. Immutable once built; safe to share.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

namespace sensorsys::agent {

// Invalid configuration: the message names the key, the value and what is allowed.
// The agent exits with 78 (EX_CONFIG) on it.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class KeyKind { Text, Seconds, Count, Percent, Boolean, Choice, Url };

struct ConfigKey {
    std::string_view name;
    std::string_view fallback;  // default value, as text
    KeyKind kind;
    std::string_view description;
    std::string_view choices = {};  // KeyKind::Choice: "a|b|c"
};

// Every key the agent knows, in the order --help and etc/agent.properties list them.
std::span<const ConfigKey> agentConfigKeys();

// One configured sensor instance (CONTRACT §8 "Sensor instances").
struct SensorSpec {
    std::string name;                                   // payload key
    std::string plugin;                                 // sensor.NAME.plugin, default NAME
    std::optional<std::chrono::milliseconds> interval;  // sensor.NAME.interval
    bool enabled = true;                                // sensor.NAME.enabled
    std::string config_json = "{}";                     // every other sensor.NAME.KEY
};

struct AgentSettings {
    std::string device_id;
    bool device_id_is_hostname = false;
    std::chrono::milliseconds interval{60'000};
    std::chrono::milliseconds read_timeout{5'000};
    std::chrono::milliseconds create_timeout{10'000};
    std::filesystem::path plugins_dir;
    std::string store_connector;
    std::string store_path;
    std::string store_connection;
    std::string import_connection;
    std::string sync_url;
    std::string sync_token;
    int sync_batch_size = 360;
    std::chrono::milliseconds sync_timeout{5'000};
    std::chrono::milliseconds sync_backoff_max{300'000};
    bool sync_gzip = true;
    double retention_disk_threshold = 50;
    std::chrono::milliseconds retention_check_interval{300'000};
    int retention_min_store_mb = 64;
    std::filesystem::path status_file;
    std::string logging_level;
    std::string logging_file;
    std::vector<std::string> sensors;  // explicit instance list; empty = one per plugin

    // Validates every declared key (and refuses unknown ones in the agent's namespaces).
    // `environment_device_id` is the seed's DEVICE_ID variable, `hostname` the fallback.
    static AgentSettings from(const Poco::Util::AbstractConfiguration& config,
                              const std::string& environment_device_id,
                              const std::string& hostname);
};

// The instances to run: the `sensors` list, or one per available plugin (named after it).
// Throws ConfigError for a malformed sensor.NAME.* key.
std::vector<SensorSpec> sensorSpecs(const Poco::Util::AbstractConfiguration& config,
                                    const AgentSettings& settings,
                                    const std::vector<std::string>& plugin_names);

// "0x76" and "118" as numbers, "true"/"false" as booleans, anything else as a string.
std::string pluginConfigValueJson(const std::string& value);

// The --help text listing every key with its default and description.
std::string configKeysHelp();

}  // namespace sensorsys::agent
