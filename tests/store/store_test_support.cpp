#include "store_test_support.hpp"

#include <cstdio>

namespace sensorsys::test {

namespace {
// 2026-11-27T00:00:00 plus i minutes as "YYYY-MM-DDTHH:MM:SS.000000", i < 30 days of minutes.
std::string wallClock(int i, int offsetMinutes) {
    const int total = i + offsetMinutes;
    const int day = 27 + total / 1440;
    const int dayMinute = total % 1440;
    const int month = day > 30 ? 12 : 11;
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "2026-%02d-%02dT%02d:%02d:00.000000", month,
                  day > 30 ? day - 30 : day, dayMinute / 60, dayMinute % 60);
    return buffer;
}
}  // namespace

std::string readingId(int i) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "00000000-0000-7000-8000-%012d", i);
    return buffer;
}

std::string tsUtc(int i) {
    return wallClock(i, 0) + "Z";
}
std::string tsLocal(int i) {
    return wallClock(i, 60) + "+01:00";
}

agent::StoredReading reading(int i, const std::string& payload) {
    agent::StoredReading r;
    r.readingId = readingId(i);
    r.json = R"({"device_id":"pi-test","reading_id":")" + readingId(i) + R"(","ts_utc":")" +
             tsUtc(i) + R"(","ts_local":")" + tsLocal(i) + R"(","payload":)" + payload + "}";
    return r;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

}  // namespace sensorsys::test
