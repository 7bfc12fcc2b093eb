#include "sensorsys/plugin_support.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

namespace sensorsys::plugin {
namespace {

// A JSON value as an error message shows it; null has no toString().
std::string describe(const Poco::Dynamic::Var& value) {
    return value.isEmpty() ? "null" : value.toString();
}

}  // namespace

Config::Config(const char* json) {
    try {
        Poco::JSON::Parser parser;
        const Poco::Dynamic::Var parsed = parser.parse(json);
        if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
            throw ConfigError("configuration must be a JSON object");
        }
        _object = parsed.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        throw ConfigError("configuration is not valid JSON: " + e.displayText());
    }
}

Config::Config(const char* json, const sensorsys_config_key* keys) : Config(json) {
    _keys = keys;
    std::string declaredNames;
    for (const sensorsys_config_key* k = keys; k && k->name; ++k) {
        declaredNames += (declaredNames.empty() ? "" : ", ") + std::string(k->name);
    }
    for (const auto& [key, value] : *_object) {
        bool known = false;
        for (const sensorsys_config_key* k = keys; k && k->name && !known; ++k)
            known = key == k->name;
        if (!known) {
            throw ConfigError("unknown key '" + key + "' (allowed: " +
                              (declaredNames.empty() ? std::string("none") : declaredNames) + ")");
        }
    }
}

const sensorsys_config_key& Config::declared(const std::string& key) const {
    for (const sensorsys_config_key* k = _keys; k && k->name; ++k) {
        if (key == k->name) return *k;
    }
    throw std::logic_error("plugin reads key '" + key + "' it did not declare");
}

std::string Config::getString(const std::string& key) const {
    return getString(key, declared(key).default_value);
}

std::int64_t Config::getInt(const std::string& key) const {
    if (has(key)) return getInt(key, 0);
    const std::string text = declared(key).default_value;
    return static_cast<std::int64_t>(std::stoll(text, nullptr, 0));
}

double Config::getNumber(const std::string& key) const {
    const std::string fallback = declared(key).default_value;
    if (!has(key)) return std::stod(fallback);
    const Poco::Dynamic::Var value = _object->get(key);
    if (value.isEmpty() || !value.isNumeric() || value.isBoolean()) {
        throw ConfigError("key '" + key + "' must be a number, got " + describe(value));
    }
    return value.convert<double>();
}

bool Config::getBool(const std::string& key) const {
    return getBool(key, std::string_view(declared(key).default_value) == "true");
}

void Config::allowOnly(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : *_object) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string allowed;
        for (const auto k : known) {
            if (!allowed.empty()) allowed += ", ";
            allowed += k;
        }
        throw ConfigError("unknown key '" + key +
                          "' (allowed: " + (allowed.empty() ? std::string("none") : allowed) + ")");
    }
}

bool Config::has(const std::string& key) const {
    return _object->has(key);
}

std::string Config::getString(const std::string& key, const std::string& fallback) const {
    if (!_object->has(key)) return fallback;
    const Poco::Dynamic::Var value = _object->get(key);
    if (value.isEmpty() || !value.isString()) {
        throw ConfigError("key '" + key + "' must be a string, got " + describe(value));
    }
    return value.extract<std::string>();
}

std::int64_t Config::getInt(const std::string& key, std::int64_t fallback) const {
    if (!_object->has(key)) return fallback;
    const Poco::Dynamic::Var value = _object->get(key);
    if (value.isEmpty() || !value.isInteger() || value.isBoolean()) {
        throw ConfigError("key '" + key + "' must be an integer, got " + describe(value));
    }
    return value.convert<std::int64_t>();
}

bool Config::getBool(const std::string& key, bool fallback) const {
    if (!_object->has(key)) return fallback;
    const Poco::Dynamic::Var value = _object->get(key);
    if (value.isEmpty() || !value.isBoolean()) {
        throw ConfigError("key '" + key + "' must be true or false, got " + describe(value));
    }
    return value.extract<bool>();
}

std::string errnoText(int error) {
    const char* name = strerrorname_np(error);
    const std::string text = std::strerror(error);
    return name ? std::string(name) + ": " + text : text;
}

double round(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

std::string jsonNumber(double value) {
    std::array<char, 64> buffer{};
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    std::string text(buffer.data(), error == std::errc() ? end : buffer.data());
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

void writeError(std::string_view text, char* error, std::size_t capacity) {
    if (error == nullptr || capacity == 0) return;
    const std::size_t n = std::min(text.size(), capacity - 1);
    std::memcpy(error, text.data(), n);
    error[n] = '\0';
}

sensorsys_status deliver(const std::string& json, char* buffer, std::size_t capacity,
                         std::size_t* length) {
    *length = json.size();
    if (buffer == nullptr || json.size() > capacity) return SENSORSYS_BUFFER_TOO_SMALL;
    std::memcpy(buffer, json.data(), json.size());
    return SENSORSYS_OK;
}

}  // namespace sensorsys::plugin
