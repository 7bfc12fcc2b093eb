// Configuration keys declared once: a program (the agent, the server) lists every key it reads
// in one table of ConfigKey entries, and validation, the unknown-key check, --help and the
// packaged properties files all follow from that table. Keys with a dynamic part (the agent's
// sensor.NAME.KEY) are not table entries; their owner checks them in code and may reuse an
// entry's rules for them (KeyTable::value with `where`).
// Thread-safety: a KeyTable is immutable after construction; share it freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

namespace sensorsys::config {

// The configuration cannot be used; the message names the key, the value and what is allowed.
// Programs exit with 78 (EX_CONFIG) on it.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class KeyType {
    String,    // any text; `required` refuses the empty string
    Integer,   // whole number (decimal or 0x hex) within [min, max]
    Number,    // decimal number within [min, max] (min exclusive with `aboveMin`)
    Boolean,   // true/false (yes/no, on/off, 1/0 accepted), read back as "true"/"false"
    Duration,  // seconds, fractions allowed, within [min, max]
    Choice,    // one of `choices` ("a|b|c"), case-insensitive, read back in lower case
    Url,       // http:// or https:// URL with a host
};

struct ConfigKey {
    std::string_view name;
    KeyType type;
    std::string_view defaultValue;  // as a user writes it in the properties file
    std::string_view description;   // one line
    double min = std::numeric_limits<double>::lowest();
    double max = std::numeric_limits<double>::max();
    std::string_view choices = {};  // KeyType::Choice: "a|b|c"
    bool required = false;          // KeyType::String: empty is refused
    bool aboveMin = false;          // KeyType::Number: min itself is refused
    // Extra rule for values the type cannot express; returns what is allowed when refused.
    std::optional<std::string> (*check)(const std::string& value) = nullptr;
};

// One table line per key: the constructors below fill the fields each type uses.
constexpr ConfigKey stringKey(std::string_view name, std::string_view fallback,
                              std::string_view description, bool required = false) {
    ConfigKey key{name, KeyType::String, fallback, description};
    key.required = required;
    return key;
}
constexpr ConfigKey integerKey(std::string_view name, std::string_view fallback,
                               std::string_view description, double min, double max) {
    return {name, KeyType::Integer, fallback, description, min, max};
}
constexpr ConfigKey numberKey(std::string_view name, std::string_view fallback,
                              std::string_view description, double min, double max,
                              bool aboveMin = false) {
    ConfigKey key{name, KeyType::Number, fallback, description, min, max};
    key.aboveMin = aboveMin;
    return key;
}
constexpr ConfigKey booleanKey(std::string_view name, std::string_view fallback,
                               std::string_view description) {
    return {name, KeyType::Boolean, fallback, description};
}
constexpr ConfigKey durationKey(std::string_view name, std::string_view fallback,
                                std::string_view description, double min, double max) {
    return {name, KeyType::Duration, fallback, description, min, max};
}
constexpr ConfigKey choiceKey(std::string_view name, std::string_view fallback,
                              std::string_view description, std::string_view choices) {
    ConfigKey key{name, KeyType::Choice, fallback, description};
    key.choices = choices;
    return key;
}
constexpr ConfigKey urlKey(std::string_view name, std::string_view fallback,
                           std::string_view description) {
    return {name, KeyType::Url, fallback, description};
}

// "unknown" when a key type is out of range; the names --help and the docs use.
std::string_view typeName(KeyType type);

// Levenshtein distance, for "did you mean" hints.
std::size_t editDistance(std::string_view a, std::string_view b);

class KeyTable {
  public:
    // `keys` must outlive the table (a static array). The table owns the namespaces of its
    // dotted names ("sync." for sync.url): refuseUnknown() refuses undeclared keys in them.
    explicit KeyTable(std::span<const ConfigKey> keys);

    std::span<const ConfigKey> keys() const { return _keys; }
    const ConfigKey& key(std::string_view name) const;  // std::logic_error when undeclared

    // Throws ConfigError for the first key set in one of the table's namespaces that the table
    // lacks, naming it and the nearest declared name.
    void refuseUnknown(const Poco::Util::AbstractConfiguration& config) const;

    // The validated value of `name` (its default when unset), normalised (trimmed; Boolean as
    // true/false; Choice in lower case). `where` reads another key under `name`'s rules.
    std::string value(const Poco::Util::AbstractConfiguration& config, std::string_view name,
                      const std::string& where = {}) const;
    std::string text(const Poco::Util::AbstractConfiguration& config, std::string_view name) const;
    std::int64_t integer(const Poco::Util::AbstractConfiguration& config,
                         std::string_view name) const;
    double number(const Poco::Util::AbstractConfiguration& config, std::string_view name) const;
    bool boolean(const Poco::Util::AbstractConfiguration& config, std::string_view name) const;
    std::chrono::milliseconds duration(const Poco::Util::AbstractConfiguration& config,
                                       std::string_view name, const std::string& where = {}) const;

    // One entry per key: "  name (default: D)\n      description [allowed]\n".
    std::string help() const;

    // The nearest declared name to `name` (smallest edit distance).
    std::string nearest(std::string_view name) const;

  private:
    std::span<const ConfigKey> _keys;
    std::vector<std::string> _namespaces;
};

// Validates `value` against `key`'s rules; returns the normalised value or throws ConfigError
// naming `where` (the key's name when empty).
std::string checkValue(const ConfigKey& key, const std::string& value, std::string_view where);

// Parses a whole number (decimal or 0x hex, optional sign); nothing for anything else.
std::optional<std::int64_t> parseInteger(const std::string& text);
// Parses a finite decimal number; nothing for anything else.
std::optional<double> parseNumber(const std::string& text);

// Throws ConfigError "invalid configuration: KEY = 'VALUE': ALLOWED".
[[noreturn]] void refuse(std::string_view key, const std::string& value,
                         const std::string& allowed);

}  // namespace sensorsys::config
