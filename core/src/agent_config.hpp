// The agent's configuration: every key declared once (name, default, description, allowed
// values), validation that names the key and what is allowed, and the sensor instances the
// configuration asks for. Immutable once built; safe to share.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include <sensorsys/common/config_keys.hpp>

#include "plugin_loader.hpp"

namespace sensorsys::agent {

// Invalid configuration: the message names the key, the value and what is allowed.
// The agent exits with 78 (EX_CONFIG) on it.
using ConfigError = config::ConfigError;

// Every key the agent knows, in the order --help and etc/agent.properties list them.
const config::KeyTable& agentConfigKeys();

// A plugin as sensorSpecs() sees it: its name and, from ABI 1.1 on, the keys it declares
// (nothing for a 1.0 plugin, whose keys pass through unchecked).
struct PluginKeys {
    std::string plugin;
    std::optional<std::vector<PluginConfigKey>> declared;
};

// One configured sensor instance (docs/contract.md §8 "Sensor instances").
struct SensorSpec {
    std::string name;                                   // payload key
    std::string plugin;                                 // sensor.NAME.plugin, default NAME
    std::optional<std::chrono::milliseconds> interval;  // sensor.NAME.interval
    bool enabled = true;                                // sensor.NAME.enabled
    std::string isolation = "process";                  // sensor.NAME.isolation
    std::int64_t memoryMaxMib = 64;                     // sensor.NAME.memory_max (process)
    std::string configJson = "{}";                      // every other sensor.NAME.KEY
    // Made only because its plugin was found (no `sensors` list, no sensor.NAME.* key): a
    // plugin that cannot run without settings (motion needs its GPIO line) is then skipped
    // with a warning instead of stopping the agent.
    bool implicit = false;
};

struct AgentSettings {
    std::string deviceId;
    bool deviceIdIsHostname = false;
    std::chrono::milliseconds interval{60'000};
    std::chrono::milliseconds readTimeout{5'000};
    std::chrono::milliseconds createTimeout{10'000};
    std::string clockSource = "auto";  // auto|kernel|server|local
    std::chrono::milliseconds clockMaxError{1'000};
    std::filesystem::path pluginsDir;
    std::string isolation = "process";  // plugins.isolation: "process" or "thread"
    std::string storeConnector;
    std::string storePath;
    std::string storeConnection;
    std::string importConnection;
    std::string syncUrl;
    std::string syncToken;
    int syncBatchSize = 360;
    std::chrono::milliseconds syncTimeout{5'000};
    std::chrono::milliseconds syncBackoffMax{300'000};
    bool syncGzip = true;
    double retentionDiskThreshold = 50;
    std::chrono::milliseconds retentionCheckInterval{300'000};
    int retentionMinStoreMb = 64;
    std::filesystem::path statusFile;
    std::string loggingLevel;
    std::string loggingFile;
    std::vector<std::string> sensors;  // explicit instance list; empty = one per plugin

    // Validates every declared key (and refuses unknown ones in the agent's namespaces).
    // `environment_device_id` is the seed's DEVICE_ID variable, `hostname` the fallback.
    static AgentSettings from(const Poco::Util::AbstractConfiguration& config,
                              const std::string& environment_device_id,
                              const std::string& hostname);
};

// The instances to run: the `sensors` list, or one per available plugin (named after it).
// A sensor.NAME.KEY goes to the plugin as JSON of the plugin's declared type for KEY; a key the
// plugin (ABI 1.1) did not declare is refused. Throws ConfigError for a malformed key.
std::vector<SensorSpec> sensorSpecs(const Poco::Util::AbstractConfiguration& config,
                                    const AgentSettings& settings,
                                    const std::vector<PluginKeys>& plugins);

// A value of an undeclared key (ABI 1.0 plugin): "0x76" and "118" as numbers, "true"/"false" as
// booleans, anything else as a string.
std::string pluginConfigValueJson(const std::string& value);

// The value as JSON of a declared type ("string", "integer", "number", "boolean"); throws
// ConfigError naming `where` when the value is not of that type.
std::string pluginConfigValueJson(const std::string& value, const std::string& type,
                                  const std::string& where);

// The --help text listing every key with its default and description.
std::string configKeysHelp();

}  // namespace sensorsys::agent
