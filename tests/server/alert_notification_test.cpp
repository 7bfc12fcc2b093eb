// The notification formats receivers depend on: ntfy's sequence id (one per episode, in the
// form ntfy >= 2.16 accepts, else it answers 400) and the webhook's fingerprint.
#include "alert_notification.hpp"

#include <Poco/Net/HTTPRequest.h>

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace sensorsys::server {
namespace {

Notification episode(const std::string& rule, const std::string& device, std::int64_t starts,
                     bool resolved) {
    Notification n;
    n.id = resolved ? 2 : 1;
    n.rule = rule;
    n.deviceId = device;
    n.metric = "bme280.temperature.c";
    n.severity = "warning";
    n.resolved = resolved;
    n.summary = device + " is hot";
    n.value = resolved ? 27.0 : 31.0;
    n.startsMicros = starts;
    if (resolved) n.endsMicros = starts + 600000000;
    return n;
}

std::string sequenceHeader(const Notification& n) {
    Poco::Net::HTTPRequest request;
    ntfyHeaders(n, request);
    return request.get("X-Sequence-ID", "");
}

// ntfy's server refuses any other sequence id with 400 (server.go, sequenceIDRegex).
bool ntfyAccepts(const std::string& id) {
    return std::regex_match(id, std::regex("[-_A-Za-z0-9]{1,64}"));
}

TEST(AlertNotification, FiringAndResolvedOfOneEpisodeShareAnNtfySequenceIdNtfyAccepts) {
    const std::int64_t starts = 1795000000123456;
    const std::string longRule(60, 'r');
    for (const auto& [rule, device] :
         {std::pair<std::string, std::string>{"greenhouse_hot", "greenhouse-1"},
          {longRule, "k\u00fcche pi/2 \"x\""}}) {
        const std::string firing = sequenceHeader(episode(rule, device, starts, false));
        const std::string resolved = sequenceHeader(episode(rule, device, starts, true));
        EXPECT_EQ(firing, resolved);
        EXPECT_TRUE(ntfyAccepts(firing)) << firing;
        EXPECT_EQ(alertFingerprint(episode(rule, device, starts, false)),
                  alertFingerprint(episode(rule, device, starts, true)));
    }
}

TEST(AlertNotification, EachEpisodeAndEachDeviceHasItsOwnSequenceId) {
    const std::int64_t starts = 1795000000123456;
    const std::string first = sequenceHeader(episode("hot", "pi-1", starts, false));
    EXPECT_NE(first, sequenceHeader(episode("hot", "pi-1", starts + 1, false)));
    EXPECT_NE(first, sequenceHeader(episode("hot", "pi-2", starts, false)));
    EXPECT_NE(first, sequenceHeader(episode("cold", "pi-1", starts, false)));
}

TEST(AlertNotification, TheNtfyMessageNamesTheStateAndCarriesTheNotificationId) {
    Poco::Net::HTTPRequest request;
    const Notification firing = episode("hot", "pi-1", 1795000000000000, false);
    ntfyHeaders(firing, request);
    EXPECT_EQ(request.get("Title"), "[firing] hot pi-1");
    EXPECT_EQ(request.get("Priority"), "4");
    EXPECT_NE(ntfyBody(firing).find("notification 1"), std::string::npos) << ntfyBody(firing);
    Poco::Net::HTTPRequest resolvedRequest;
    ntfyHeaders(episode("hot", "pi-1", 1795000000000000, true), resolvedRequest);
    EXPECT_EQ(resolvedRequest.get("Title"), "[resolved] hot pi-1");
}

}  // namespace
}  // namespace sensorsys::server
