// Alert rules and receivers: the alerts file (alerts.file, the project's properties syntax)
// parsed and validated into an immutable AlertRules. A bad file is refused whole with a
// ConfigError naming the key, so a reload that fails keeps the rules already running.
// Pure functions and immutable values; thread-safe.
#pragma once

#include <sensorsys/common/config_keys.hpp>

#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sensorsys::server {

// How alerts are evaluated and delivered (alerts.* keys; the rest are fixed, tests shorten them).
struct AlertSettings {
    std::chrono::milliseconds lateAfter{120000};
    std::chrono::milliseconds backoffMax{300000};
    std::chrono::milliseconds interval{500};  // evaluator and sender rounds
    // A device whose newest reading is late counts as caught up after this long without one.
    std::chrono::milliseconds catchUpQuiet{5000};
    int chunkReadings = 5000;  // readings per device transaction
};

// "90s", "5m", "2h", "1d": a whole number and a unit; nothing for anything else.
std::optional<std::chrono::seconds> parseAlertDuration(const std::string& text);

enum class ReceiverType { Webhook, Ntfy };

struct AlertReceiver {
    std::string name;
    ReceiverType type = ReceiverType::Webhook;
    std::string url;
    std::string authorization;  // empty: no Authorization header
    std::chrono::seconds timeout{10};
    bool sendResolved = true;
    std::chrono::seconds giveUpAfter{86400};
};

enum class RuleKind { Above, Below, NoData };

struct AlertRule {
    std::string name;
    RuleKind kind = RuleKind::Above;
    std::string metric;           // empty for NoData
    std::string devices = "*";    // glob over device ids
    double threshold = 0;         // above / below
    std::optional<double> clear;  // hysteresis: back to OK only past this
    std::chrono::seconds forDuration{0};
    std::chrono::seconds noData{0};
    std::string severity = "warning";
    std::string summary;                 // {device}, {value}, {rule}, {metric} are replaced
    std::vector<std::string> receivers;  // resolved: never empty when receivers exist

    bool matches(const std::string& deviceId) const;
    // The threshold is crossed (never for NoData rules).
    bool breached(double value) const;
    // Far enough back on the OK side to resolve (clear, else not breached).
    bool cleared(double value) const;
};

struct AlertRules {
    std::vector<AlertReceiver> receivers;
    std::vector<AlertRule> rules;

    const AlertReceiver* receiver(const std::string& name) const;
    // The distinct metrics threshold rules read, comma-separated (an SQL array parameter).
    std::string metricList() const;
};

// The rules of config (a parsed alerts file). Throws config::ConfigError naming the key.
AlertRules parseAlertRules(const Poco::Util::AbstractConfiguration& config);

// Reads and parses the file at path. A missing file is no rules when it is the default
// (required false) and a ConfigError naming alerts.file when it was named explicitly.
std::shared_ptr<const AlertRules> loadAlertRules(const std::string& path, bool required);

}  // namespace sensorsys::server

namespace sensorsys::server {

// The rules in force, replaced whole on reload; readers keep the set they took until they
// take the next one. Thread-safe.
class AlertRuleSet {
  public:
    explicit AlertRuleSet(std::shared_ptr<const AlertRules> rules = nullptr)
        : _rules(rules ? std::move(rules) : std::make_shared<const AlertRules>()) {}

    std::shared_ptr<const AlertRules> current() const {
        std::lock_guard lock(_mutex);
        return _rules;
    }
    void replace(std::shared_ptr<const AlertRules> rules) {
        std::lock_guard lock(_mutex);
        _rules = std::move(rules);
    }

  private:
    mutable std::mutex _mutex;
    std::shared_ptr<const AlertRules> _rules;
};

}  // namespace sensorsys::server
