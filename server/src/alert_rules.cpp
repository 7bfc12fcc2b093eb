#include "alert_rules.hpp"

#include "metric_path.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/File.h>
#include <Poco/Glob.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <set>

namespace sensorsys::server {
namespace {

using config::refuse;
using Poco::Util::AbstractConfiguration;

constexpr const char* kReceiverFields[] = {"type",    "url",           "authorization",
                                           "timeout", "send_resolved", "give_up_after"};
constexpr const char* kRuleFields[] = {"metric", "devices", "above",    "below",   "no_data",
                                       "clear",  "for",     "severity", "summary", "receivers"};

std::vector<std::string> nameList(const AbstractConfiguration& c, const std::string& key) {
    std::vector<std::string> names;
    const std::string text = c.getString(key, "");
    Poco::StringTokenizer tokens(
        text, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    for (const auto& name : tokens) {
        if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
            refuse(key, text, "names are [a-z0-9_-]+, separated by commas");
        if (std::find(names.begin(), names.end(), name) != names.end())
            refuse(key, text, "'" + name + "' is listed twice");
        names.push_back(name);
    }
    return names;
}

// Every key under root.NAME must be a known field of a listed NAME.
void refuseUnknown(const AbstractConfiguration& c, const std::string& root,
                   const std::vector<std::string>& listed, std::span<const char* const> fields,
                   const std::string& listKey) {
    AbstractConfiguration::Keys names;
    c.keys(root, names);
    for (const auto& name : names) {
        const std::string prefix = root + "." + name;
        if (std::find(listed.begin(), listed.end(), name) == listed.end())
            refuse(prefix, c.getString(prefix, ""), "'" + name + "' is not listed in " + listKey);
        AbstractConfiguration::Keys keys;
        c.keys(prefix, keys);
        for (const auto& key : keys) {
            if (std::find_if(fields.begin(), fields.end(),
                             [&](const char* f) { return key == f; }) == fields.end()) {
                std::string known;
                for (const char* f : fields) known += (known.empty() ? "" : ", ") + std::string(f);
                refuse(prefix + "." + key, c.getString(prefix + "." + key, ""),
                       "unknown key; known: " + known);
            }
        }
    }
    AbstractConfiguration::Keys top;
    c.keys(top);
    for (const auto& key : top) {
        if (key != "receivers" && key != "rules" && key != "receiver" && key != "rule")
            refuse(key, c.getString(key, ""),
                   "unknown key; known: receivers, rules, receiver.NAME.*, rule.NAME.*");
    }
}

std::optional<std::string> field(const AbstractConfiguration& c, const std::string& key) {
    if (!c.hasProperty(key)) return std::nullopt;
    return Poco::trim(c.getString(key));
}

std::chrono::seconds durationField(const AbstractConfiguration& c, const std::string& key,
                                   std::chrono::seconds fallback, bool positive) {
    const auto text = field(c, key);
    if (!text) return fallback;
    const auto d = parseAlertDuration(*text);
    if (!d) refuse(key, *text, "must be a whole number followed by s, m, h or d (5m)");
    if (positive && d->count() == 0) refuse(key, *text, "must be more than 0");
    return *d;
}

std::optional<double> numberField(const AbstractConfiguration& c, const std::string& key) {
    const auto text = field(c, key);
    if (!text) return std::nullopt;
    const auto n = config::parseNumber(*text);
    if (!n) refuse(key, *text, "must be a number");
    return n;
}

AlertReceiver parseReceiver(const AbstractConfiguration& c, const std::string& name) {
    const std::string p = "receiver." + name + ".";
    AlertReceiver r;
    r.name = name;
    const auto type = field(c, p + "type");
    if (!type || (*type != "webhook" && *type != "ntfy"))
        refuse(p + "type", type.value_or(""), "must be webhook or ntfy");
    r.type = *type == "ntfy" ? ReceiverType::Ntfy : ReceiverType::Webhook;
    r.url = field(c, p + "url").value_or("");
    static constexpr config::ConfigKey kUrl =
        config::urlKey("receiver.url", "", "where notifications are posted");
    config::checkValue(kUrl, r.url, p + "url");
    r.authorization = field(c, p + "authorization").value_or("");
    r.timeout = durationField(c, p + "timeout", r.timeout, true);
    if (const auto sr = field(c, p + "send_resolved")) {
        static constexpr config::ConfigKey kBool =
            config::booleanKey("receiver.send_resolved", "true", "send resolved messages");
        r.sendResolved = config::checkValue(kBool, *sr, p + "send_resolved") == "true";
    }
    r.giveUpAfter = durationField(c, p + "give_up_after", r.giveUpAfter, true);
    return r;
}

void parseCondition(const AbstractConfiguration& c, const std::string& p, AlertRule& r) {
    const auto above = numberField(c, p + "above");
    const auto below = numberField(c, p + "below");
    const bool noData = c.hasProperty(p + "no_data");
    if ((above ? 1 : 0) + (below ? 1 : 0) + (noData ? 1 : 0) != 1)
        refuse(p + "above", field(c, p + "above").value_or(""),
               "exactly one of above, below or no_data must be set");
    if (noData) {
        r.kind = RuleKind::NoData;
        r.noData = durationField(c, p + "no_data", {}, true);
        for (const char* f : {"metric", "clear", "for"}) {
            if (c.hasProperty(p + f))
                refuse(p + f, c.getString(p + f), "not used by a no_data rule");
        }
        return;
    }
    r.kind = above ? RuleKind::Above : RuleKind::Below;
    r.threshold = above ? *above : *below;
    r.metric = field(c, p + "metric").value_or("");
    if (auto problem = metricPathProblem(r.metric)) refuse(p + "metric", r.metric, *problem);
    r.clear = numberField(c, p + "clear");
    if (r.clear && (above ? *r.clear > r.threshold : *r.clear < r.threshold))
        refuse(p + "clear", field(c, p + "clear").value_or(""),
               std::string("must lie on the OK side of ") + (above ? "above" : "below"));
    r.forDuration = durationField(c, p + "for", r.forDuration, false);
}

AlertRule parseRule(const AbstractConfiguration& c, const std::string& name,
                    const std::vector<AlertReceiver>& receivers) {
    const std::string p = "rule." + name + ".";
    AlertRule r;
    r.name = name;
    parseCondition(c, p, r);
    r.devices = field(c, p + "devices").value_or("*");
    if (r.devices.empty()) refuse(p + "devices", r.devices, "must be a glob over device ids");
    r.severity = Poco::toLower(field(c, p + "severity").value_or("warning"));
    if (r.severity != "critical" && r.severity != "warning" && r.severity != "info")
        refuse(p + "severity", r.severity, "must be critical, warning or info");
    r.summary =
        field(c, p + "summary")
            .value_or(r.kind == RuleKind::NoData ? "{rule}: no data from {device}"
                                                 : "{rule}: {metric} of {device} is {value}");
    if (c.hasProperty(p + "receivers")) {
        r.receivers = nameList(c, p + "receivers");
        for (const auto& name : r.receivers) {
            if (std::none_of(receivers.begin(), receivers.end(),
                             [&](const AlertReceiver& x) { return x.name == name; }))
                refuse(p + "receivers", c.getString(p + "receivers"),
                       "'" + name + "' is not listed in receivers");
        }
    } else {
        for (const auto& x : receivers) r.receivers.push_back(x.name);
    }
    return r;
}

}  // namespace

std::optional<std::chrono::seconds> parseAlertDuration(const std::string& text) {
    if (text.size() < 2 || text.size() > 12) return std::nullopt;
    const std::string digits = text.substr(0, text.size() - 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const std::int64_t n = std::stoll(digits);
    switch (text.back()) {
        case 's':
            return std::chrono::seconds(n);
        case 'm':
            return std::chrono::seconds(n * 60);
        case 'h':
            return std::chrono::seconds(n * 3600);
        case 'd':
            return std::chrono::seconds(n * 86400);
    }
    return std::nullopt;
}

bool AlertRule::matches(const std::string& deviceId) const {
    return devices == "*" || Poco::Glob(devices).match(deviceId);
}

bool AlertRule::breached(double value) const {
    if (kind == RuleKind::Above) return value > threshold;
    if (kind == RuleKind::Below) return value < threshold;
    return false;
}

bool AlertRule::cleared(double value) const {
    if (!clear) return !breached(value);
    return kind == RuleKind::Above ? value < *clear : value > *clear;
}

const AlertReceiver* AlertRules::receiver(const std::string& name) const {
    for (const auto& r : receivers) {
        if (r.name == name) return &r;
    }
    return nullptr;
}

std::string AlertRules::metricList() const {
    std::set<std::string> metrics;
    for (const auto& r : rules) {
        if (r.kind != RuleKind::NoData) metrics.insert(r.metric);
    }
    std::string out;
    for (const auto& m : metrics) out += (out.empty() ? "" : ",") + m;
    return out;
}

AlertRules parseAlertRules(const AbstractConfiguration& c) {
    AlertRules rules;
    const auto receiverNames = nameList(c, "receivers");
    const auto ruleNames = nameList(c, "rules");
    refuseUnknown(c, "receiver", receiverNames, kReceiverFields, "receivers");
    refuseUnknown(c, "rule", ruleNames, kRuleFields, "rules");
    for (const auto& name : receiverNames) rules.receivers.push_back(parseReceiver(c, name));
    for (const auto& name : ruleNames) rules.rules.push_back(parseRule(c, name, rules.receivers));
    return rules;
}

std::shared_ptr<const AlertRules> loadAlertRules(const std::string& path, bool required) {
    if (!Poco::File(path).exists()) {
        if (required) refuse("alerts.file", path, "the file does not exist");
        return std::make_shared<const AlertRules>();
    }
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file;
    try {
        file = Poco::makeAuto<Poco::Util::PropertyFileConfiguration>(path);
    } catch (const Poco::Exception& e) {
        refuse("alerts.file", path, "cannot be read: " + e.displayText());
    }
    return std::make_shared<const AlertRules>(parseAlertRules(*file));
}

}  // namespace sensorsys::server
