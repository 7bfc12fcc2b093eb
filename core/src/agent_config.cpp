#include "agent_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>

namespace sensorsys::agent {
namespace {

using Poco::Util::AbstractConfiguration;

constexpr ConfigKey kKeys[] = {
    {"agent.device_id", "", KeyKind::Text,
     "device name sent with every reading; empty: $DEVICE_ID, else the host name"},
    {"agent.interval", "60", KeyKind::Seconds,
     "seconds between readings, aligned to multiples of it; fractions allowed (0.1 = 10 Hz)"},
    {"agent.read_timeout", "5", KeyKind::Seconds,
     "deadline for one sensor read; a late sensor gets an error starting with 'timeout'"},
    {"agent.create_timeout", "10", KeyKind::Seconds,
     "deadline for creating one sensor instance; until it returns its readings carry a timeout"},
    {"agent.status_file", "/var/lib/sensorsys/status.json", KeyKind::Text,
     "where the running agent keeps its state for --status (empty: none)"},
    {"plugins.dir", "/usr/lib/sensorsys", KeyKind::Text,
     "folder the sensor plugins (*.so) load from"},
    {"store.connector", "sqlite", KeyKind::Choice, "where readings are buffered",
     "sqlite|postgresql"},
    {"store.path", "/var/lib/sensorsys/buffer.db", KeyKind::Text, "SQLite buffer file"},
    {"store.connection", "", KeyKind::Text,
     "libpq connection string for store.connector=postgresql, e.g. host=127.0.0.1 dbname=sensors"},
    {"import.connection", "", KeyKind::Text,
     "--import-seed: libpq connection string of the seed agent's local database (default: "
     "from DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD)"},
    {"sync.url", "http://127.0.0.1:8000", KeyKind::Url, "server base URL (http or https)"},
    {"sync.token", "", KeyKind::Text, "bearer token for the server (empty: none)"},
    {"sync.batch_size", "360", KeyKind::Count, "readings per POST /readings/bulk"},
    {"sync.timeout", "5", KeyKind::Seconds, "timeout of one sync request"},
    {"sync.backoff_max", "300", KeyKind::Seconds, "longest wait between failed sync attempts"},
    {"sync.gzip", "true", KeyKind::Boolean, "gzip request bodies"},
    {"retention.disk_threshold", "50", KeyKind::Percent,
     "disk usage (percent) above which old readings are deleted"},
    {"retention.check_interval", "300", KeyKind::Seconds, "seconds between disk usage checks"},
    {"retention.min_store_mb", "64", KeyKind::Count,
     "unsynced readings are only deleted when the store is larger than this (MiB)"},
    {"logging.level", "info", KeyKind::Choice, "least severe level logged",
     "debug|info|warning|error|critical"},
    {"logging.file", "", KeyKind::Text, "also log to this file (empty: stderr only)"},
    {"sensors", "", KeyKind::Text,
     "sensor instances to run, comma-separated (empty: every plugin found, one instance each)"},
};

// Namespaces the agent owns: a key in them that is not declared is a typo worth refusing.
constexpr std::string_view kOwnedPrefixes[] = {"agent.", "plugins.",   "store.",
                                               "sync.",  "retention.", "logging."};

const ConfigKey& keySpec(std::string_view name) {
    for (const auto& key : kKeys) {
        if (key.name == name) return key;
    }
    throw std::logic_error("undeclared configuration key " + std::string(name));
}

[[noreturn]] void refuse(std::string_view key, const std::string& value,
                         const std::string& allowed) {
    throw ConfigError("invalid configuration: " + std::string(key) + " = '" + value +
                      "': " + allowed);
}

std::optional<double> parseNumber(const std::string& text) {
    if (text.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::optional<long long> parseInteger(const std::string& text) {
    static const std::regex pattern("[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)");
    if (!std::regex_match(text, pattern)) return std::nullopt;
    errno = 0;
    const long long value = std::strtoll(text.c_str(), nullptr, 0);
    if (errno != 0) return std::nullopt;
    return value;
}

// Returns the key's validated value as text (the default when unset).
std::string checked(const AbstractConfiguration& config, const ConfigKey& key,
                    const std::string& where = {}) {
    const std::string name = where.empty() ? std::string(key.name) : where;
    const std::string value = Poco::trim(config.getString(name, std::string(key.fallback)));
    switch (key.kind) {
        case KeyKind::Text:
            break;
        case KeyKind::Seconds: {
            const auto seconds = parseNumber(value);
            if (!seconds || *seconds < 0.001 || *seconds > 86400 * 7) {
                refuse(name, value, "must be a number of seconds from 0.001 to 604800");
            }
            break;
        }
        case KeyKind::Count: {
            const auto count = parseInteger(value);
            if (!count || *count < 1 || *count > 1'000'000) {
                refuse(name, value, "must be a whole number from 1 to 1000000");
            }
            break;
        }
        case KeyKind::Percent: {
            const auto percent = parseNumber(value);
            if (!percent || *percent <= 0 || *percent > 100) {
                refuse(name, value, "must be a percentage above 0 and at most 100");
            }
            break;
        }
        case KeyKind::Boolean:
            if (value != "true" && value != "false") refuse(name, value, "must be true or false");
            break;
        case KeyKind::Choice: {
            const std::string choices(key.choices);
            Poco::StringTokenizer allowed(choices, "|");
            if (std::find(allowed.begin(), allowed.end(), Poco::toLower(value)) == allowed.end()) {
                refuse(name, value, "must be one of " + choices);
            }
            return Poco::toLower(value);
        }
        case KeyKind::Url: {
            try {
                const Poco::URI uri(value);
                if ((uri.getScheme() != "http" && uri.getScheme() != "https") ||
                    uri.getHost().empty()) {
                    refuse(name, value, "must be an http:// or https:// URL with a host");
                }
            } catch (const Poco::SyntaxException&) {
                refuse(name, value, "must be an http:// or https:// URL with a host");
            }
            break;
        }
    }
    return value;
}

std::chrono::milliseconds millis(const std::string& seconds) {
    return std::chrono::milliseconds(std::llround(*parseNumber(seconds) * 1000.0));
}

void refuseUnknownKeys(const AbstractConfiguration& config) {
    // Walk the agent's namespaces; sensor.* and sensors are checked per instance.
    for (const auto prefix : kOwnedPrefixes) {
        const std::string root(prefix.substr(0, prefix.size() - 1));
        AbstractConfiguration::Keys keys;
        config.keys(root, keys);
        for (const auto& leaf : keys) {
            const std::string name = root + "." + leaf;
            const bool known = std::any_of(std::begin(kKeys), std::end(kKeys),
                                           [&](const ConfigKey& k) { return k.name == name; });
            if (!known) {
                std::string same_area;
                for (const auto& k : kKeys) {
                    if (k.name.substr(0, prefix.size()) == prefix) {
                        same_area += (same_area.empty() ? "" : ", ") + std::string(k.name);
                    }
                }
                throw ConfigError("invalid configuration: unknown key '" + name +
                                  "' (known keys here: " + same_area + ")");
            }
        }
    }
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

}  // namespace

std::span<const ConfigKey> agentConfigKeys() {
    return kKeys;
}

AgentSettings AgentSettings::from(const AbstractConfiguration& config,
                                  const std::string& environment_device_id,
                                  const std::string& hostname) {
    refuseUnknownKeys(config);
    auto get = [&](std::string_view name) { return checked(config, keySpec(name)); };

    AgentSettings s;
    s.device_id = get("agent.device_id");
    if (s.device_id.empty()) s.device_id = environment_device_id;
    if (s.device_id.empty()) {
        s.device_id = hostname;
        s.device_id_is_hostname = true;
    }
    if (s.device_id.empty() || s.device_id.size() > 128) {
        refuse("agent.device_id", s.device_id, "must be 1 to 128 characters");
    }
    s.interval = millis(get("agent.interval"));
    s.read_timeout = millis(get("agent.read_timeout"));
    s.create_timeout = millis(get("agent.create_timeout"));
    s.status_file = get("agent.status_file");
    s.plugins_dir = get("plugins.dir");
    if (s.plugins_dir.empty()) refuse("plugins.dir", "", "must name a folder");
    s.store_connector = get("store.connector");
    s.store_path = get("store.path");
    s.store_connection = get("store.connection");
    s.import_connection = get("import.connection");
    s.sync_url = get("sync.url");
    s.sync_token = get("sync.token");
    s.sync_batch_size = static_cast<int>(*parseInteger(get("sync.batch_size")));
    if (s.sync_batch_size > 10'000) {
        refuse("sync.batch_size", std::to_string(s.sync_batch_size),
               "must be at most 10000 (the server's batch limit)");
    }
    s.sync_timeout = millis(get("sync.timeout"));
    s.sync_backoff_max = millis(get("sync.backoff_max"));
    s.sync_gzip = get("sync.gzip") == "true";
    s.retention_disk_threshold = *parseNumber(get("retention.disk_threshold"));
    s.retention_check_interval = millis(get("retention.check_interval"));
    s.retention_min_store_mb = static_cast<int>(*parseInteger(get("retention.min_store_mb")));
    s.logging_level = get("logging.level");
    s.logging_file = get("logging.file");
    s.sensors = splitList(get("sensors"));
    static const std::regex name_pattern("[A-Za-z0-9_][A-Za-z0-9_-]{0,63}");
    for (const auto& name : s.sensors) {
        if (!std::regex_match(name, name_pattern)) {
            refuse("sensors", name, "instance names are 1-64 of [A-Za-z0-9_-]");
        }
    }
    if (s.store_connector == "postgresql" && s.store_connection.empty()) {
        refuse("store.connection", "", "must be set when store.connector = postgresql");
    }
    return s;
}

std::string pluginConfigValueJson(const std::string& value) {
    if (value == "true" || value == "false") return value;
    if (const auto integer = parseInteger(value)) return std::to_string(*integer);
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(value, out);
    return out.str();
}

std::vector<SensorSpec> sensorSpecs(const AbstractConfiguration& config,
                                    const AgentSettings& settings,
                                    const std::vector<std::string>& plugin_names) {
    const std::vector<std::string> names =
        settings.sensors.empty() ? plugin_names : settings.sensors;
    std::vector<SensorSpec> specs;
    for (const auto& name : names) {
        const std::string prefix = "sensor." + name;
        SensorSpec spec;
        spec.name = name;
        spec.plugin = Poco::trim(config.getString(prefix + ".plugin", name));
        if (spec.plugin.empty()) refuse(prefix + ".plugin", "", "must name a plugin");
        if (config.has(prefix + ".interval")) {
            spec.interval =
                millis(checked(config, keySpec("agent.interval"), prefix + ".interval"));
        }
        if (config.has(prefix + ".enabled")) {
            const std::string enabled = Poco::trim(config.getString(prefix + ".enabled"));
            if (enabled != "true" && enabled != "false") {
                refuse(prefix + ".enabled", enabled, "must be true or false");
            }
            spec.enabled = enabled == "true";
        }
        AbstractConfiguration::Keys keys;
        config.keys(prefix, keys);
        std::sort(keys.begin(), keys.end());
        std::string json = "{";
        for (const auto& key : keys) {
            if (key == "plugin" || key == "interval" || key == "enabled") continue;
            AbstractConfiguration::Keys deeper;
            config.keys(prefix + "." + key, deeper);
            if (!deeper.empty()) {
                refuse(prefix + "." + key + "." + deeper.front(), "",
                       "plugin settings are flat: sensor.NAME.KEY = VALUE");
            }
            std::ostringstream quoted;
            Poco::JSON::Stringifier::formatString(key, quoted);
            if (json.size() > 1) json += ',';
            json += quoted.str() + ":" +
                    pluginConfigValueJson(Poco::trim(config.getString(prefix + "." + key)));
        }
        spec.config_json = json + "}";
        specs.push_back(std::move(spec));
    }
    return specs;
}

std::string configKeysHelp() {
    std::ostringstream out;
    out << "Configuration keys (properties file, --define key=value):\n";
    for (const auto& key : kKeys) {
        out << "  " << key.name
            << " (default: " << (key.fallback.empty() ? std::string_view("empty") : key.fallback)
            << ")\n"
            << "      " << key.description;
        if (!key.choices.empty()) out << " [" << key.choices << "]";
        out << "\n";
    }
    out << "  sensor.NAME.plugin / .interval / .enabled / .KEY\n"
           "      per-instance plugin, interval and settings; other keys go to the plugin\n";
    return out.str();
}

}  // namespace sensorsys::agent
