#include "reading.hpp"

#include <ctime>
#include <sstream>

#include <Poco/JSON/Object.h>

namespace sensorsys::agent {
namespace {

using std::chrono::system_clock;

// Splits a time point into whole seconds and microseconds, flooring towards the past.
std::pair<std::time_t, long> split(system_clock::time_point time) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    auto seconds = micros / 1'000'000;
    auto rest = micros % 1'000'000;
    if (rest < 0) {
        rest += 1'000'000;
        --seconds;
    }
    return {static_cast<std::time_t>(seconds), static_cast<long>(rest)};
}

std::string format(const std::tm& tm, long micros, const std::string& zone) {
    char text[64];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%06ld", micros);
    return std::string(text, n) + fraction + zone;
}

std::string quoted(const std::string& text) {
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(text, out);
    return out.str();
}

}  // namespace

std::string formatUtc(system_clock::time_point time) {
    const auto [seconds, micros] = split(time);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return format(tm, micros, "Z");
}

std::string formatLocal(system_clock::time_point time) {
    const auto [seconds, micros] = split(time);
    std::tm tm{};
    localtime_r(&seconds, &tm);
    const long offset = tm.tm_gmtoff;
    const long magnitude = offset < 0 ? -offset : offset;
    char zone[48];
    std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", offset < 0 ? '-' : '+', magnitude / 3600,
                  (magnitude % 3600) / 60);
    return format(tm, micros, zone);
}

std::string Reading::toJson() const {
    std::string json = "{\"device_id\":" + quoted(deviceId) +
                       ",\"reading_id\":" + quoted(readingId) + ",\"ts_utc\":" + quoted(tsUtc) +
                       ",\"ts_local\":" + quoted(tsLocal);
    if (!tsQuality.empty()) json += ",\"ts_quality\":" + quoted(tsQuality);
    json += ",\"payload\":{";
    bool first = true;
    for (const auto& result : payload) {
        if (!first) json += ',';
        first = false;
        json += quoted(result.name) + ":" + result.json;
    }
    json += "}}";
    return json;
}

}  // namespace sensorsys::agent
