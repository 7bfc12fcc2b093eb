#include "agent_config.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include <Poco/JSON/Stringifier.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

namespace sensorsys::agent {
namespace {

using Poco::Util::AbstractConfiguration;

using config::ConfigKey;
using config::refuse;
using namespace config;  // the *Key table constructors

constexpr double kWeek = 86400.0 * 7;

// Every key the agent reads. Adding a key is one entry here: --help, the unknown-key check and
// the test of etc/agent.properties follow. sensor.NAME.* is read by sensorSpecs().
constexpr ConfigKey kKeys[] = {
    stringKey("agent.device_id", "",
              "device name sent with every reading; empty: $DEVICE_ID, else the host name"),
    durationKey("agent.interval", "60",
                "seconds between readings, aligned to multiples of it; fractions allowed (0.1 = "
                "10 Hz)",
                0.001, kWeek),
    durationKey("agent.read_timeout", "5",
                "deadline for one sensor read; a late sensor gets an error starting with "
                "'timeout'",
                0.001, kWeek),
    durationKey("agent.create_timeout", "10",
                "deadline for a sensor's create (its set-up); until it returns, that sensor's "
                "readings carry an error starting with 'timeout: create'",
                0.001, kWeek),
    choiceKey("agent.clock_source", "auto",
              "who tells the time: auto (kernel when synchronised, else the server), kernel, "
              "server, or local (the wall clock as it is)",
              "auto|kernel|server|local"),
    durationKey("agent.clock_max_error", "1",
                "largest error accepted from a time source (kernel maxerror, server round trip)",
                0.001, 3600),
    stringKey("agent.status_file", "/var/lib/sensorsys/status.json",
              "where the running agent keeps its state for --status (empty: none)"),
    stringKey("plugins.dir", "/usr/lib/sensorsys", "folder the sensor plugins (*.so) load from",
              true),
    choiceKey("plugins.isolation", "process",
              "where plugins run: process (each sensor in its own sensorsys-plugin-host, killed "
              "and restarted when it crashes, hangs or exceeds sensor.NAME.memory_max) or thread "
              "(inside the agent: less memory, but a crashing plugin ends the agent); "
              "sensor.NAME.isolation overrides it per sensor",
              "process|thread"),
    choiceKey("store.connector", "sqlite", "where readings are buffered", "sqlite|postgresql"),
    stringKey("store.path", "/var/lib/sensorsys/buffer.db", "SQLite buffer file"),
    stringKey("store.connection", "",
              "libpq connection string for store.connector=postgresql, e.g. host=127.0.0.1 "
              "dbname=sensors"),
    stringKey("import.connection", "",
              "--import-seed: libpq connection string of the seed agent's local database "
              "(default: from DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD)"),
    urlKey("sync.url", "http://127.0.0.1:8000", "server base URL (http or https)"),
    stringKey("sync.token", "", "bearer token for the server (empty: none)"),
    // At most the server's default limits.max_batch, so a default server takes every batch.
    integerKey("sync.batch_size", "360", "readings per POST /readings/bulk", 1, 10'000),
    durationKey("sync.timeout", "5", "timeout of one sync request", 0.001, kWeek),
    durationKey("sync.backoff_max", "300", "longest wait between failed sync attempts", 0.001,
                kWeek),
    booleanKey("sync.gzip", "true", "gzip request bodies"),
    numberKey("retention.disk_threshold", "50",
              "disk usage (percent) above which old readings are deleted", 0, 100, true),
    durationKey("retention.check_interval", "300", "seconds between disk usage checks", 0.001,
                kWeek),
    integerKey("retention.min_store_mb", "64",
               "unsynced readings are only deleted when the store is larger than this (MiB)", 1,
               1'000'000),
    choiceKey("logging.level", "info", "least severe level logged",
              "debug|info|warning|error|critical"),
    stringKey("logging.file", "", "also log to this file (empty: stderr only)"),
    stringKey("sensors", "",
              "sensor instances to run, comma-separated (empty: every plugin found, one instance "
              "each)"),
};

const config::KeyTable& table() {
    static const config::KeyTable keys(kKeys);
    return keys;
}

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> items;
    Poco::StringTokenizer tokens(
        text, ", \t", Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    for (const auto& token : tokens) {
        if (std::find(items.begin(), items.end(), token) == items.end()) items.push_back(token);
    }
    return items;
}

std::string quoted(const std::string& text) {
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(text, out);
    return out.str();
}

// Device id: the key, else the seed's DEVICE_ID, else the host name.
void chooseDeviceId(AgentSettings& s, const std::string& environment_device_id,
                    const std::string& hostname) {
    if (s.deviceId.empty()) s.deviceId = environment_device_id;
    if (s.deviceId.empty()) {
        s.deviceId = hostname;
        s.deviceIdIsHostname = true;
    }
    if (s.deviceId.empty() || s.deviceId.size() > 128) {
        refuse("agent.device_id", s.deviceId, "must be 1 to 128 characters");
    }
}

// Rules that tie keys together or that a single key's type cannot say.
void checkCombinations(const AgentSettings& s) {
    static const std::regex name_pattern("[A-Za-z0-9_][A-Za-z0-9_-]{0,63}");
    for (const auto& name : s.sensors) {
        if (!std::regex_match(name, name_pattern)) {
            refuse("sensors", name, "instance names are 1-64 of [A-Za-z0-9_-]");
        }
    }
    if (s.storeConnector == "postgresql" && s.storeConnection.empty()) {
        refuse("store.connection", "", "must be set when store.connector = postgresql");
    }
}

const PluginKeys* pluginNamed(const std::vector<PluginKeys>& plugins, const std::string& name) {
    for (const auto& plugin : plugins) {
        if (plugin.plugin == name) return &plugin;
    }
    return nullptr;
}

// One sensor.NAME.KEY as a JSON member, typed as the plugin declares KEY.
std::string pluginMember(const AbstractConfiguration& config, const std::string& prefix,
                         const std::string& key, const PluginKeys* plugin) {
    const std::string where = prefix + "." + key;
    const std::string value = Poco::trim(config.getString(where));
    if (plugin == nullptr || !plugin->declared) {
        return quoted(key) + ":" + pluginConfigValueJson(value);
    }
    std::string names;
    for (const auto& declared : *plugin->declared) {
        if (declared.name == key) {
            return quoted(key) + ":" + pluginConfigValueJson(value, declared.type, where);
        }
        names += (names.empty() ? "" : ", ") + declared.name;
    }
    throw ConfigError("invalid configuration: unknown key '" + where + "': plugin " +
                      plugin->plugin + " declares " + (names.empty() ? "no keys" : names));
}

// Every sensor.NAME.KEY other than plugin, interval and enabled, as the plugin's JSON object.
std::string pluginJson(const AbstractConfiguration& config, const std::string& prefix,
                       const PluginKeys* plugin) {
    AbstractConfiguration::Keys keys;
    config.keys(prefix, keys);
    std::sort(keys.begin(), keys.end());
    std::string json = "{";
    for (const auto& key : keys) {
        if (key == "plugin" || key == "interval" || key == "enabled" || key == "isolation" ||
            key == "memory_max") {
            continue;
        }
        AbstractConfiguration::Keys deeper;
        config.keys(prefix + "." + key, deeper);
        if (!deeper.empty()) {
            refuse(prefix + "." + key + "." + deeper.front(), "",
                   "plugin settings are flat: sensor.NAME.KEY = VALUE");
        }
        if (json.size() > 1) json += ',';
        json += pluginMember(config, prefix, key, plugin);
    }
    return json + "}";
}

// sensor.NAME.isolation (default plugins.isolation) and sensor.NAME.memory_max (MiB).
void readIsolation(const AbstractConfiguration& config, const AgentSettings& settings,
                   const std::string& prefix, SensorSpec& spec) {
    spec.isolation = settings.isolation;
    if (config.has(prefix + ".isolation")) {
        spec.isolation = table().value(config, "plugins.isolation", prefix + ".isolation");
    }
    if (config.has(prefix + ".memory_max")) {
        const std::string text = Poco::trim(config.getString(prefix + ".memory_max"));
        const auto mib = config::parseInteger(text);
        if (!mib || *mib < 16 || *mib > 1024 * 1024) {
            refuse(prefix + ".memory_max", text, "a whole number of MiB from 16 to 1048576");
        }
        spec.memoryMaxMib = *mib;
    }
}

}  // namespace

const config::KeyTable& agentConfigKeys() {
    return table();
}

AgentSettings AgentSettings::from(const AbstractConfiguration& config,
                                  const std::string& environment_device_id,
                                  const std::string& hostname) {
    const auto& keys = table();
    keys.refuseUnknown(config);
    AgentSettings s;
    s.deviceId = keys.text(config, "agent.device_id");
    chooseDeviceId(s, environment_device_id, hostname);
    s.interval = keys.duration(config, "agent.interval");
    s.readTimeout = keys.duration(config, "agent.read_timeout");
    s.createTimeout = keys.duration(config, "agent.create_timeout");
    s.clockSource = keys.text(config, "agent.clock_source");
    s.clockMaxError = keys.duration(config, "agent.clock_max_error");
    s.statusFile = keys.text(config, "agent.status_file");
    s.pluginsDir = keys.text(config, "plugins.dir");
    s.isolation = keys.text(config, "plugins.isolation");
    s.storeConnector = keys.text(config, "store.connector");
    s.storePath = keys.text(config, "store.path");
    s.storeConnection = keys.text(config, "store.connection");
    s.importConnection = keys.text(config, "import.connection");
    s.syncUrl = keys.text(config, "sync.url");
    s.syncToken = keys.text(config, "sync.token");
    s.syncBatchSize = static_cast<int>(keys.integer(config, "sync.batch_size"));
    s.syncTimeout = keys.duration(config, "sync.timeout");
    s.syncBackoffMax = keys.duration(config, "sync.backoff_max");
    s.syncGzip = keys.boolean(config, "sync.gzip");
    s.retentionDiskThreshold = keys.number(config, "retention.disk_threshold");
    s.retentionCheckInterval = keys.duration(config, "retention.check_interval");
    s.retentionMinStoreMb = static_cast<int>(keys.integer(config, "retention.min_store_mb"));
    s.loggingLevel = keys.text(config, "logging.level");
    s.loggingFile = keys.text(config, "logging.file");
    s.sensors = splitList(keys.text(config, "sensors"));
    checkCombinations(s);
    return s;
}

std::string pluginConfigValueJson(const std::string& value) {
    if (value == "true" || value == "false") return value;
    if (const auto integer = config::parseInteger(value)) return std::to_string(*integer);
    return quoted(value);
}

std::string pluginConfigValueJson(const std::string& value, const std::string& type,
                                  const std::string& where) {
    if (type == "integer") {
        if (const auto integer = config::parseInteger(value)) return std::to_string(*integer);
        refuse(where, value, "must be a whole number");
    }
    if (type == "number") {
        if (const auto integer = config::parseInteger(value)) return std::to_string(*integer);
        if (const auto number = config::parseNumber(value)) {
            std::ostringstream out;
            out.precision(15);
            out << *number;
            return out.str();
        }
        refuse(where, value, "must be a number");
    }
    if (type == "boolean") {
        if (value == "true" || value == "false") return value;
        refuse(where, value, "must be true or false");
    }
    return quoted(value);
}

std::vector<SensorSpec> sensorSpecs(const AbstractConfiguration& config,
                                    const AgentSettings& settings,
                                    const std::vector<PluginKeys>& plugins) {
    std::vector<std::string> names = settings.sensors;
    if (names.empty()) {
        for (const auto& plugin : plugins) names.push_back(plugin.plugin);
    }
    std::vector<SensorSpec> specs;
    for (const auto& name : names) {
        const std::string prefix = "sensor." + name;
        SensorSpec spec;
        spec.name = name;
        spec.plugin = Poco::trim(config.getString(prefix + ".plugin", name));
        if (spec.plugin.empty()) refuse(prefix + ".plugin", "", "must name a plugin");
        if (config.has(prefix + ".interval")) {
            spec.interval = table().duration(config, "agent.interval", prefix + ".interval");
        }
        if (config.has(prefix + ".enabled")) {
            const std::string enabled = Poco::trim(config.getString(prefix + ".enabled"));
            if (enabled != "true" && enabled != "false") {
                refuse(prefix + ".enabled", enabled, "must be true or false");
            }
            spec.enabled = enabled == "true";
        }
        readIsolation(config, settings, prefix, spec);
        spec.configJson = pluginJson(config, prefix, pluginNamed(plugins, spec.plugin));
        spec.implicit =
            settings.sensors.empty() && spec.configJson == "{}" && !spec.interval && spec.enabled;
        specs.push_back(std::move(spec));
    }
    return specs;
}

std::string configKeysHelp() {
    return "Configuration keys (properties file, --define key=value):\n" + table().help() +
           "  sensor.NAME.plugin / .interval / .enabled / .KEY\n"
           "      per-instance plugin, interval and settings; other keys go to the plugin as "
           "JSON of the type it declares (see --list-plugins)\n"
           "  sensor.NAME.isolation / .memory_max\n"
           "      per-instance plugins.isolation (process|thread) and, in process mode, the "
           "host's address-space limit in MiB (default 64)\n";
}

}  // namespace sensorsys::agent
