#include "sensorsys/common/config_keys.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>

namespace sensorsys::config {
namespace {

using Poco::Util::AbstractConfiguration;

std::string shown(double value) {
    std::ostringstream out;
    out.precision(15);
    out << value;
    return out.str();
}

bool bounded(const ConfigKey& key) {
    return key.min != std::numeric_limits<double>::lowest() ||
           key.max != std::numeric_limits<double>::max();
}

std::string rangeText(const ConfigKey& key) {
    if (!bounded(key)) return {};
    if (key.aboveMin) return " above " + shown(key.min) + " and at most " + shown(key.max);
    return " from " + shown(key.min) + " to " + shown(key.max);
}

// "a|b|c" as "a, b or c".
std::string choiceText(std::string_view choices) {
    Poco::StringTokenizer tokens(std::string(choices), "|");
    std::string text;
    for (std::size_t i = 0; i < tokens.count(); ++i) {
        if (i > 0) text += i + 1 == tokens.count() ? " or " : ", ";
        text += tokens[i];
    }
    return text;
}

// What a value of `key` must be, as the refusal and --help say it.
std::string allowedText(const ConfigKey& key) {
    switch (key.type) {
        case KeyType::String:
            return key.required ? "must not be empty" : "any text";
        case KeyType::Integer:
            return "must be a whole number" + rangeText(key);
        case KeyType::Number:
            return "must be a number" + rangeText(key);
        case KeyType::Boolean:
            return "must be true or false";
        case KeyType::Duration:
            return "must be a number of seconds" + rangeText(key);
        case KeyType::Choice:
            return "must be one of " + choiceText(key.choices);
        case KeyType::Url:
            return "must be an http:// or https:// URL with a host";
    }
    return {};
}

bool inRange(const ConfigKey& key, double value) {
    if (key.aboveMin ? value <= key.min : value < key.min) return false;
    return value <= key.max;
}

std::optional<std::string> normalBoolean(const std::string& value) {
    const std::string lower = Poco::toLower(value);
    if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return "true";
    if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return "false";
    return std::nullopt;
}

bool validUrl(const std::string& value) {
    try {
        const Poco::URI uri(value);
        return (uri.getScheme() == "http" || uri.getScheme() == "https") && !uri.getHost().empty();
    } catch (const Poco::SyntaxException&) {
        return false;
    }
}

// The normalised value, or nothing when `value` does not have `key`'s type and range.
std::optional<std::string> normalised(const ConfigKey& key, const std::string& value) {
    switch (key.type) {
        case KeyType::String:
            if (key.required && value.empty()) return std::nullopt;
            return value;
        case KeyType::Integer: {
            const auto integer = parseInteger(value);
            if (!integer || !inRange(key, static_cast<double>(*integer))) return std::nullopt;
            return value;
        }
        case KeyType::Number:
        case KeyType::Duration: {
            const auto number = parseNumber(value);
            if (!number || !inRange(key, *number)) return std::nullopt;
            return value;
        }
        case KeyType::Boolean:
            return normalBoolean(value);
        case KeyType::Choice: {
            Poco::StringTokenizer allowed(std::string(key.choices), "|");
            const std::string lower = Poco::toLower(value);
            if (std::find(allowed.begin(), allowed.end(), lower) == allowed.end()) {
                return std::nullopt;
            }
            return lower;
        }
        case KeyType::Url:
            if (!validUrl(value)) return std::nullopt;
            return value;
    }
    return std::nullopt;
}

// Every name under `root` that holds a value, however deep.
void collectNames(const AbstractConfiguration& config, const std::string& root,
                  std::vector<std::string>& names) {
    AbstractConfiguration::Keys keys;
    config.keys(root, keys);
    for (const auto& leaf : keys) {
        const std::string name = root + "." + leaf;
        if (config.has(name)) names.push_back(name);
        collectNames(config, name, names);
    }
}

}  // namespace

std::string_view typeName(KeyType type) {
    switch (type) {
        case KeyType::String:
            return "string";
        case KeyType::Integer:
            return "integer";
        case KeyType::Number:
            return "number";
        case KeyType::Boolean:
            return "boolean";
        case KeyType::Duration:
            return "duration";
        case KeyType::Choice:
            return "choice";
        case KeyType::Url:
            return "url";
    }
    return "unknown";
}

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

[[noreturn]] void refuse(std::string_view key, const std::string& value,
                         const std::string& allowed) {
    throw ConfigError("invalid configuration: " + std::string(key) + " = '" + value +
                      "': " + allowed);
}

std::optional<std::int64_t> parseInteger(const std::string& text) {
    static const std::regex pattern("[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)");
    if (!std::regex_match(text, pattern)) return std::nullopt;
    errno = 0;
    const long long value = std::strtoll(text.c_str(), nullptr, 0);
    if (errno != 0) return std::nullopt;
    return value;
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

std::string checkValue(const ConfigKey& key, const std::string& value, std::string_view where) {
    const std::string_view name = where.empty() ? key.name : where;
    const auto result = normalised(key, value);
    if (!result) refuse(name, value, allowedText(key));
    if (key.check != nullptr) {
        if (const auto allowed = key.check(*result)) refuse(name, value, *allowed);
    }
    return *result;
}

KeyTable::KeyTable(std::span<const ConfigKey> keys) : _keys(keys) {
    for (const auto& key : keys) {
        const auto dot = key.name.find('.');
        if (dot == std::string_view::npos) continue;
        const std::string root(key.name.substr(0, dot));
        if (std::find(_namespaces.begin(), _namespaces.end(), root) == _namespaces.end()) {
            _namespaces.push_back(root);
        }
    }
}

const ConfigKey& KeyTable::key(std::string_view name) const {
    for (const auto& key : _keys) {
        if (key.name == name) return key;
    }
    throw std::logic_error("undeclared configuration key " + std::string(name));
}

std::string KeyTable::nearest(std::string_view name) const {
    std::string best;
    std::size_t bestDistance = std::string::npos;
    for (const auto& key : _keys) {
        const std::size_t distance = editDistance(name, key.name);
        if (distance < bestDistance) {
            best = key.name;
            bestDistance = distance;
        }
    }
    return best;
}

void KeyTable::refuseUnknown(const AbstractConfiguration& config) const {
    for (const auto& root : _namespaces) {
        std::vector<std::string> names;
        collectNames(config, root, names);
        for (const auto& name : names) {
            const bool known = std::any_of(_keys.begin(), _keys.end(),
                                           [&](const ConfigKey& k) { return k.name == name; });
            if (!known) {
                throw ConfigError("invalid configuration: unknown key '" + name +
                                  "' (nearest known key: " + nearest(name) + ")");
            }
        }
    }
}

std::string KeyTable::value(const AbstractConfiguration& config, std::string_view name,
                            const std::string& where) const {
    const ConfigKey& spec = key(name);
    const std::string read = where.empty() ? std::string(name) : where;
    return checkValue(spec, Poco::trim(config.getString(read, std::string(spec.defaultValue))),
                      read);
}

std::string KeyTable::text(const AbstractConfiguration& config, std::string_view name) const {
    return value(config, name);
}

std::int64_t KeyTable::integer(const AbstractConfiguration& config, std::string_view name) const {
    return *parseInteger(value(config, name));
}

double KeyTable::number(const AbstractConfiguration& config, std::string_view name) const {
    return *parseNumber(value(config, name));
}

bool KeyTable::boolean(const AbstractConfiguration& config, std::string_view name) const {
    return value(config, name) == "true";
}

std::chrono::milliseconds KeyTable::duration(const AbstractConfiguration& config,
                                             std::string_view name,
                                             const std::string& where) const {
    return std::chrono::milliseconds(std::llround(*parseNumber(value(config, name, where)) * 1000));
}

std::string KeyTable::help() const {
    std::ostringstream out;
    for (const auto& key : _keys) {
        out << "  " << key.name << " (default: "
            << (key.defaultValue.empty() ? std::string_view("empty") : key.defaultValue) << ")\n"
            << "      " << key.description;
        constexpr std::string_view kMust = "must be ";
        if (key.type != KeyType::String) {
            const std::string allowed = allowedText(key);
            out << " [" << (allowed.rfind(kMust, 0) == 0 ? allowed.substr(kMust.size()) : allowed)
                << "]";
        }
        out << "\n";
    }
    return out.str();
}

}  // namespace sensorsys::config
