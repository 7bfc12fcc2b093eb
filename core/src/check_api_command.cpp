#include "check_api_command.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "clock_seam.hpp"
#include "reading.hpp"
#include "sync/bulk_client.hpp"
#include "time_source.hpp"

namespace sensorsys::agent {
namespace {

// Beyond this, ts_utc stamped by the agent and the server's received time disagree visibly.
constexpr double kSkewLimitSeconds = 5.0;

}  // namespace

double clockSkewSeconds(const std::string& server_time, std::chrono::system_clock::time_point now) {
    int zone = 0;
    Poco::DateTime parsed;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, server_time,
                                        parsed, zone)) {
        throw std::invalid_argument("unreadable server_time '" + server_time + "'");
    }
    const auto server_us = parsed.timestamp().epochMicroseconds() - zone * 1'000'000LL;
    const auto local_us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    return static_cast<double>(server_us - local_us) / 1e6;
}

namespace {

// What /auth/check says the token may do, against what this agent needs; 1 on a failure.
int checkToken(const AgentSettings& settings, const Poco::JSON::Object& info, std::ostream& out) {
    const std::string scope = info.optValue<std::string>("scope", "");
    const std::string device = info.optValue<std::string>("device_id", "");
    if (scope == "device" && device != settings.deviceId) {
        out << "token:     FAIL it may write only device '" << device << "', this agent is '"
            << settings.deviceId << "'\n";
        return 1;
    } else if (scope == "read") {
        out << "token:     FAIL read-only token: it cannot send readings\n";
        return 1;
    } else {
        out << "token:     ok (scope " << (scope.empty() ? "none: auth is off" : scope)
            << (device.empty() ? "" : ", device " + device) << ")\n";
    }
    return 0;
}

// Which source dates the readings (agent.clock_source), since when, and the measured offset.
void printTimeSource(TimeSource& time, std::ostream& out) {
    const TimeStatus status = time.status();
    if (status.origin == TimeOrigin::None) {
        out << "time:      none: the kernel is not synchronised and the server's time was not "
               "usable; readings would be held\n";
        return;
    }
    char offset[48];
    std::snprintf(offset, sizeof offset, "%+.6f s",
                  static_cast<double>(status.offset.count()) / 1e6);
    out << "time:      " << originName(status.origin) << " since "
        << (status.since ? formatUtc(*status.since) : std::string("?")) << ", offset " << offset
        << " from the wall clock\n";
}

// The server's clock against ours at the middle of the round trip; 1 on a failure. A wall
// clock the server's time stands in for (time source "server") is corrected, not a failure.
int checkClock(const Poco::JSON::Object& info, std::chrono::system_clock::time_point middle,
               bool server_dates, std::ostream& out) {
    try {
        // Compare with the middle of the round trip.
        const double skew = clockSkewSeconds(info.optValue<std::string>("server_time", ""), middle);
        char line[96];
        std::snprintf(line, sizeof line, "%+.3f s", skew);
        if (std::fabs(skew) > kSkewLimitSeconds && server_dates) {
            out << "clock:     ok (server " << line
                << ": the wall clock is wrong; readings are dated by the server's time)\n";
        } else if (std::fabs(skew) > kSkewLimitSeconds) {
            out << "clock:     FAIL server is " << line
                << " from this device: fix NTP, timestamps are taken here\n";
            return 1;
        } else {
            out << "clock:     ok (server " << line << ")\n";
        }
    } catch (const std::invalid_argument& e) {
        out << "clock:     FAIL " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int checkApi(const AgentSettings& settings, std::ostream& out) {
    BulkClient client(settings.syncUrl, settings.syncToken, settings.syncTimeout);
    SystemClockSeam seam;
    TimeSource time(seam, parseClockMode(settings.clockSource),
                    std::chrono::duration_cast<std::chrono::microseconds>(settings.clockMaxError));
    time.known();  // asks the kernel first, as the running agent does
    client.observeServerTime(&time);
    const bool tls = client.url().getScheme() == "https";
    std::pair<int, std::string> answer;
    const auto sent = std::chrono::system_clock::now();
    try {
        answer = client.get("/auth/check");
    } catch (const Poco::Exception& e) {
        out << "reachable: FAIL " << settings.syncUrl << ": " << e.displayText() << "\n";
        if (tls) out << "tls:       FAIL (no verified connection)\n";
        return 1;
    }
    const auto received = std::chrono::system_clock::now();
    out << "reachable: ok " << settings.syncUrl << "\n";
    if (tls) out << "tls:       ok (server certificate verified)\n";

    const auto& [status, body] = answer;
    if (status == 401 || status == 403) {
        out << "token:     FAIL HTTP " << status << ": "
            << (settings.syncToken.empty() ? "no sync.token configured" : "token refused") << "\n";
        return 1;
    }
    if (status != 200) {
        out << "token:     FAIL HTTP " << status << " from /auth/check (is this a sensorsys "
            << "server?)\n";
        return 1;
    }
    int failures = 0;
    Poco::JSON::Object::Ptr info;
    try {
        info = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        out << "token:     FAIL /auth/check answered something that is not JSON\n";
        return 1;
    }
    failures += checkToken(settings, *info, out);
    failures += checkClock(*info, sent + (received - sent) / 2,
                           time.status().origin == TimeOrigin::Server, out);
    printTimeSource(time, out);
    return failures == 0 ? 0 : 1;
}

}  // namespace sensorsys::agent
