// One notification of the outbox as receivers get it: the Alertmanager webhook body (version
// 4) or an ntfy message, and its delivery over HTTP(S) with the receiver's timeout. Every
// message carries the notification id (header X-Sensorsys-Notification-Id and the body) so a
// receiver can drop a repeat. Pure functions, except deliver() (network); thread-safe.
#pragma once

#include "alert_rules.hpp"

#include <Poco/Net/HTTPRequest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace sensorsys::server {

struct Notification {
    std::int64_t id = 0;
    std::string rule;
    std::string deviceId;
    std::string metric;
    std::string severity;
    bool resolved = false;
    std::string summary;
    std::optional<double> value;
    std::int64_t startsMicros = 0;
    std::optional<std::int64_t> endsMicros;
};

// 16 hex digits of a SHA-1 over the labels: equal for an alert's firing and resolved messages.
std::string alertFingerprint(const Notification& n);
// ntfy's sequence id: one per alert episode, so the resolving message replaces the firing one.
std::string alertSequenceId(const Notification& n);

std::string webhookBody(const Notification& n, const std::string& receiver);
// The ntfy message body; headers are set by ntfyRequest.
std::string ntfyBody(const Notification& n);
void ntfyHeaders(const Notification& n, Poco::Net::HTTPRequest& request);

// The value as text for summaries and annotations ("30.5").
std::string formatAlertValue(double value);

// Posts n to the receiver. True on a 2xx answer; else error says why.
bool deliver(const AlertReceiver& receiver, const Notification& n, std::string& error);

}  // namespace sensorsys::server
