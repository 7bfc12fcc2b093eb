// The alerts file parser: a valid file's rules and defaults, and malformed files each refused
// with a message naming the key at fault.
#include "alert_rules.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <gtest/gtest.h>

#include <sstream>

namespace sensorsys::server {
namespace {

constexpr const char* kValid =
    "receivers = ops, phone\n"
    "receiver.ops.type = webhook\n"
    "receiver.ops.url = https://alerts.example.net/hook\n"
    "# optional: sent as the Authorization header\n"
    "receiver.ops.authorization = Bearer s3cret\n"
    "receiver.phone.type = ntfy\n"
    "receiver.phone.url = https://ntfy.example.net/greenhouse\n"
    "receiver.phone.send_resolved = false\n"
    "rules = greenhouse_hot, pi_offline\n"
    "rule.greenhouse_hot.metric = bme280.temperature.c\n"
    "rule.greenhouse_hot.devices = greenhouse-*\n"
    "rule.greenhouse_hot.above = 30\n"
    "rule.greenhouse_hot.clear = 28.5\n"
    "rule.greenhouse_hot.for = 5m\n"
    "rule.greenhouse_hot.severity = warning\n"
    "rule.greenhouse_hot.summary = {device} is {value} C\n"
    "rule.greenhouse_hot.receivers = ops, phone\n"
    "rule.pi_offline.no_data = 10m\n";

AlertRules parse(const std::string& text) {
    std::istringstream in(text);
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> c =
        Poco::makeAuto<Poco::Util::PropertyFileConfiguration>(in);
    return parseAlertRules(*c);
}

TEST(AlertRules, TheIssuesExampleParsesWithItsValuesAndDefaults) {
    const AlertRules rules = parse(kValid);
    ASSERT_EQ(rules.receivers.size(), 2u);
    EXPECT_EQ(rules.receivers[0].authorization, "Bearer s3cret");
    EXPECT_EQ(rules.receivers[0].timeout, std::chrono::seconds(10));
    EXPECT_TRUE(rules.receivers[0].sendResolved);
    EXPECT_EQ(rules.receivers[0].giveUpAfter, std::chrono::hours(24));
    EXPECT_EQ(rules.receivers[1].type, ReceiverType::Ntfy);
    EXPECT_FALSE(rules.receivers[1].sendResolved);
    ASSERT_EQ(rules.rules.size(), 2u);
    const AlertRule& hot = rules.rules[0];
    EXPECT_EQ(hot.kind, RuleKind::Above);
    EXPECT_EQ(hot.threshold, 30);
    EXPECT_EQ(hot.clear, 28.5);
    EXPECT_EQ(hot.forDuration, std::chrono::minutes(5));
    EXPECT_TRUE(hot.matches("greenhouse-1"));
    EXPECT_FALSE(hot.matches("garage-1"));
    const AlertRule& offline = rules.rules[1];
    EXPECT_EQ(offline.kind, RuleKind::NoData);
    EXPECT_EQ(offline.noData, std::chrono::minutes(10));
    EXPECT_TRUE(offline.matches("anything"));
    EXPECT_EQ(offline.receivers, (std::vector<std::string>{"ops", "phone"}));
}

TEST(AlertRules, HysteresisResolvesOnlyPastClear) {
    const AlertRules rules = parse(kValid);  // a reference into a temporary would dangle
    const AlertRule& hot = rules.rules[0];
    EXPECT_TRUE(hot.breached(30.1));
    EXPECT_FALSE(hot.breached(30));
    EXPECT_FALSE(hot.cleared(29));
    EXPECT_TRUE(hot.cleared(28.4));
}

TEST(AlertRules, DurationsAreAWholeNumberAndAUnit) {
    EXPECT_EQ(parseAlertDuration("90s"), std::chrono::seconds(90));
    EXPECT_EQ(parseAlertDuration("2h"), std::chrono::hours(2));
    EXPECT_EQ(parseAlertDuration("1d"), std::chrono::hours(24));
    for (const char* bad : {"", "5", "m", "1.5m", "-1m", "5 m", "5M", "5w"})
        EXPECT_FALSE(parseAlertDuration(bad)) << bad;
}

struct Malformed {
    const char* name;
    const char* text;  // appended to a minimal valid file
    const char* key;   // the message names it
};

constexpr const char* kBase =
    "receivers = ops\nreceiver.ops.type = webhook\nreceiver.ops.url = http://127.0.0.1:9/\n";

const Malformed kMalformed[] = {
    {"unknown receiver type", "receiver.ops.type = smtp\n", "receiver.ops.type"},
    {"receiver without url", "receivers = ops, b\nreceiver.b.type = ntfy\n", "receiver.b.url"},
    {"receiver url not http", "receiver.ops.url = ftp://x/\n", "receiver.ops.url"},
    {"timeout without unit", "receiver.ops.timeout = 10\n", "receiver.ops.timeout"},
    {"send_resolved not boolean", "receiver.ops.send_resolved = maybe\n",
     "receiver.ops.send_resolved"},
    {"give_up_after zero", "receiver.ops.give_up_after = 0s\n", "receiver.ops.give_up_after"},
    {"unknown receiver key", "receiver.ops.token = x\n", "receiver.ops.token"},
    {"receiver not listed", "receiver.other.type = webhook\n", "receiver.other"},
    {"rule without condition", "rules = r\nrule.r.metric = a.b\n", "rule.r.above"},
    {"rule with two conditions",
     "rules = r\nrule.r.metric = a.b\nrule.r.above = 1\nrule.r.below = 0\n", "rule.r.above"},
    {"threshold not a number", "rules = r\nrule.r.metric = a.b\nrule.r.above = hot\n",
     "rule.r.above"},
    {"threshold rule without metric", "rules = r\nrule.r.above = 1\n", "rule.r.metric"},
    {"metric not a path", "rules = r\nrule.r.metric = Bad Path\nrule.r.above = 1\n",
     "rule.r.metric"},
    {"clear on the wrong side",
     "rules = r\nrule.r.metric = a\nrule.r.above = 30\nrule.r.clear = 31\n", "rule.r.clear"},
    {"for without unit", "rules = r\nrule.r.metric = a\nrule.r.above = 1\nrule.r.for = 5 minutes\n",
     "rule.r.for"},
    {"no_data zero", "rules = r\nrule.r.no_data = 0m\n", "rule.r.no_data"},
    {"no_data with a metric", "rules = r\nrule.r.no_data = 5m\nrule.r.metric = a\n",
     "rule.r.metric"},
    {"unknown rule receiver", "rules = r\nrule.r.no_data = 5m\nrule.r.receivers = pager\n",
     "rule.r.receivers"},
    {"unknown severity", "rules = r\nrule.r.no_data = 5m\nrule.r.severity = loud\n",
     "rule.r.severity"},
    {"misspelt rule key", "rules = r\nrule.r.no_data = 5m\nrule.r.abvoe = 3\n", "rule.r.abvoe"},
    {"rule not listed", "rules = r\nrule.r.no_data = 5m\nrule.s.no_data = 5m\n", "rule.s"},
    {"rule listed twice", "rules = r, r\nrule.r.no_data = 5m\n", "rules"},
    {"bad rule name", "rules = R!\n", "rules"},
    {"unknown top-level key", "rulez = r\n", "rulez"},
};

void PrintTo(const Malformed& m, std::ostream* out) {
    *out << m.name;
}

class MalformedAlertFile : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedAlertFile, IsRefusedNamingTheKey) {
    const Malformed& m = GetParam();
    try {
        parse(std::string(kBase) + m.text);
        FAIL() << m.name << ": accepted";
    } catch (const config::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(std::string(m.key) + " = "), std::string::npos)
            << m.name << ": " << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(AlertRules, MalformedAlertFile, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) {
                             std::string name = info.param.name;
                             for (char& ch : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             }
                             return name;
                         });

TEST(AlertRules, AMissingDefaultFileIsNoRulesAndAMissingNamedFileIsRefused) {
    EXPECT_TRUE(loadAlertRules("/nonexistent/alerts.properties", false)->rules.empty());
    try {
        loadAlertRules("/nonexistent/alerts.properties", true);
        FAIL() << "accepted";
    } catch (const config::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("alerts.file"), std::string::npos) << e.what();
    }
}

TEST(AlertRules, ThePackagedFileParsesAndDefinesNoRules) {
    const auto rules =
        loadAlertRules(std::string(SENSORSYS_SOURCE_DIR) + "/etc/alerts.properties", true);
    EXPECT_TRUE(rules->rules.empty());
}

}  // namespace
}  // namespace sensorsys::server
