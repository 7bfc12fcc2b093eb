#include "alert_notification.hpp"

#include "timestamp.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/DigestEngine.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/NullStream.h>
#include <Poco/SHA1Engine.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cstdio>
#include <memory>

namespace sensorsys::server {
namespace {

std::string rfc3339(std::int64_t micros) {
    return formatTimestamp({micros, 0});
}

std::string labelsJson(const Notification& n) {
    std::string out =
        "{\"alertname\": " + jsonString(n.rule) + ", \"device_id\": " + jsonString(n.deviceId);
    if (!n.metric.empty()) out += ", \"metric\": " + jsonString(n.metric);
    return out + ", \"severity\": " + jsonString(n.severity) + "}";
}

std::string annotationsJson(const Notification& n) {
    std::string out = "{\"summary\": " + jsonString(n.summary);
    if (n.value) out += ", \"value\": " + jsonString(formatAlertValue(*n.value));
    return out + ", \"notification_id\": " + jsonString(std::to_string(n.id)) + "}";
}

std::unique_ptr<Poco::Net::HTTPClientSession> sessionFor(const Poco::URI& uri) {
    if (uri.getScheme() == "https") {
        auto context =
            Poco::makeAuto<Poco::Net::Context>(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                               Poco::Net::Context::VERIFY_RELAXED, 9, true);
        return std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                               context);
    }
    return std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
}

}  // namespace

std::string formatAlertValue(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", value);
    return buf;
}

std::string alertFingerprint(const Notification& n) {
    Poco::SHA1Engine sha;
    sha.update(labelsJson(n));
    return Poco::DigestEngine::digestToHex(sha.digest()).substr(0, 16);
}

std::string alertSequenceId(const Notification& n) {
    return "sensorsys-" + alertFingerprint(n) + "-" + std::to_string(n.startsMicros);
}

std::string webhookBody(const Notification& n, const std::string& receiver) {
    const std::string status = n.resolved ? "resolved" : "firing";
    const std::string labels = labelsJson(n);
    const std::string annotations = annotationsJson(n);
    const std::string ends = n.endsMicros ? rfc3339(*n.endsMicros) : "0001-01-01T00:00:00Z";
    return "{\"version\": \"4\", \"groupKey\": " + jsonString("{}:{alertname=\"" + n.rule + "\"}") +
           ", \"truncatedAlerts\": 0, \"status\": \"" + status +
           "\", \"receiver\": " + jsonString(receiver) +
           ", \"groupLabels\": {\"alertname\": " + jsonString(n.rule) +
           "}, \"commonLabels\": " + labels + ", \"commonAnnotations\": " + annotations +
           ", \"externalURL\": \"\", \"notificationId\": " + jsonString(std::to_string(n.id)) +
           ", \"alerts\": [{\"status\": \"" + status + "\", \"labels\": " + labels +
           ", \"annotations\": " + annotations + ", \"startsAt\": \"" + rfc3339(n.startsMicros) +
           "\", \"endsAt\": \"" + ends + "\", \"generatorURL\": \"\", \"fingerprint\": \"" +
           alertFingerprint(n) + "\"}]}";
}

std::string ntfyBody(const Notification& n) {
    return n.summary + "\n(notification " + std::to_string(n.id) + ")";
}

void ntfyHeaders(const Notification& n, Poco::Net::HTTPRequest& request) {
    request.set("Title", (n.resolved ? "[resolved] " : "[firing] ") + n.rule + " " + n.deviceId);
    const std::string priority =
        n.resolved ? "2" : (n.severity == "critical" ? "5" : (n.severity == "warning" ? "4" : "3"));
    request.set("Priority", priority);
    request.set("Tags", n.resolved ? "white_check_mark"
                                   : (n.severity == "info" ? "information_source" : "warning"));
    request.set("X-Sequence-ID", alertSequenceId(n));
}

bool deliver(const AlertReceiver& receiver, const Notification& n, std::string& error) {
    try {
        const Poco::URI uri(receiver.url);
        auto session = sessionFor(uri);
        session->setTimeout(Poco::Timespan(receiver.timeout.count(), 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        std::string body;
        if (receiver.type == ReceiverType::Webhook) {
            body = webhookBody(n, receiver.name);
            request.setContentType("application/json");
        } else {
            body = ntfyBody(n);
            request.setContentType("text/plain; charset=utf-8");
            ntfyHeaders(n, request);
        }
        request.set("X-Sensorsys-Notification-Id", std::to_string(n.id));
        if (!receiver.authorization.empty()) request.set("Authorization", receiver.authorization);
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        auto& in = session->receiveResponse(response);
        Poco::NullOutputStream sink;
        Poco::StreamCopier::copyStream(in, sink);
        const int status = response.getStatus();
        if (status >= 200 && status < 300) return true;
        error = "HTTP " + std::to_string(status);
    } catch (const Poco::Exception& e) {
        error = e.displayText();
    } catch (const std::exception& e) {
        error = e.what();
    }
    return false;
}

}  // namespace sensorsys::server
