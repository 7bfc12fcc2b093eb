#include "timestamp.hpp"

#include <algorithm>

namespace sensorsys::server {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& value) {
    if (pos + count > s.size()) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

bool isLeap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int daysInMonth(int y, int m) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : days[m - 1];
}

constexpr std::int64_t kMicrosPerSecond = 1000000;

}  // namespace

std::optional<Timestamp> parseTimestamp(std::string_view s) {
    int year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) ||
        s[7] != '-' || !digits(s, 8, 2, day))
        return std::nullopt;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
    if (!digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
        !digits(s, 17, 2, second))
        return std::nullopt;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    std::size_t pos = 19;
    std::int64_t micros = 0;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t start = pos;
        int scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (scale > 0) {
                micros += (s[pos] - '0') * scale;
                scale /= 10;
            }
            ++pos;
        }
        if (pos == start || pos - start > 9) return std::nullopt;
    }
    int offset = 0;
    if (pos < s.size()) {
        char c = s[pos];
        if ((c == 'Z' || c == 'z') && pos + 1 == s.size()) {
            pos = s.size();
        } else if (c == '+' || c == '-') {
            int oh, om;
            if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
            std::size_t mpos = pos + 3;
            if (mpos < s.size() && s[mpos] == ':') ++mpos;
            if (!digits(s, mpos, 2, om) || mpos + 2 != s.size()) return std::nullopt;
            if (oh > 23 || om > 59) return std::nullopt;
            offset = (oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
        } else {
            return std::nullopt;
        }
    }
    const std::int64_t days =
        daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t localSeconds = days * 86400 + hour * 3600 + minute * 60 + second;
    // The instant must stay within years 1..9999 once the offset is applied, where PostgreSQL
    // and formatTimestamp agree.
    const std::int64_t utcSeconds = localSeconds - offset;
    if (utcSeconds < daysFromCivil(1, 1, 2) * 86400 ||
        utcSeconds >= daysFromCivil(9999, 12, 31) * 86400)
        return std::nullopt;
    Timestamp ts;
    ts.epochMicros = utcSeconds * kMicrosPerSecond + micros;
    ts.offsetSeconds = offset;
    return ts;
}

namespace {

// Writes v as exactly width decimal digits, zero-padded; v < 10^width.
char* putDigits(char* p, unsigned v, int width) {
    for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

// Appends "YYYY-MM-DDTHH:MM:SS" and, when withFraction or there is one, ".ffffff". Written by
// hand rather than with snprintf: formatting timestamps took ~15 % of the CPU of a GET /readings
// answer (perf, 61 readings per answer), almost all of it in vfprintf.
void appendBrokenDown(std::string& out, std::int64_t localMicros, bool withFraction) {
    std::int64_t secs = localMicros / kMicrosPerSecond;
    std::int64_t frac = localMicros % kMicrosPerSecond;
    if (frac < 0) {
        frac += kMicrosPerSecond;
        --secs;
    }
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    int y;
    unsigned m, d;
    civilFromDays(days, y, m, d);
    char buf[48];
    char* p = buf;
    if (y >= 0 && y <= 9999) {
        p = putDigits(p, static_cast<unsigned>(y), 4);
    } else {  // not from parseTimestamp, but a database may hold such a year
        const std::string year = std::to_string(y);
        p = std::copy(year.begin(), year.end(), p);
    }
    *p++ = '-';
    p = putDigits(p, m, 2);
    *p++ = '-';
    p = putDigits(p, d, 2);
    *p++ = 'T';
    p = putDigits(p, static_cast<unsigned>(rem / 3600), 2);
    *p++ = ':';
    p = putDigits(p, static_cast<unsigned>(rem % 3600 / 60), 2);
    *p++ = ':';
    p = putDigits(p, static_cast<unsigned>(rem % 60), 2);
    if (withFraction || frac != 0) {
        *p++ = '.';
        p = putDigits(p, static_cast<unsigned>(frac), 6);
    }
    out.append(buf, p);
}

}  // namespace

void appendTimestamp(std::string& out, const Timestamp& ts) {
    appendBrokenDown(
        out, ts.epochMicros + static_cast<std::int64_t>(ts.offsetSeconds) * kMicrosPerSecond,
        false);
    const unsigned off =
        static_cast<unsigned>(ts.offsetSeconds < 0 ? -ts.offsetSeconds : ts.offsetSeconds);
    char zone[8];
    zone[0] = ts.offsetSeconds < 0 ? '-' : '+';
    char* p = putDigits(zone + 1, off / 3600, 2);
    *p++ = ':';
    p = putDigits(p, off % 3600 / 60, 2);
    out.append(zone, p);
}

std::string formatTimestamp(const Timestamp& ts) {
    std::string out;
    appendTimestamp(out, ts);
    return out;
}

std::string formatUtcForSql(std::int64_t epochMicros) {
    std::string out;
    appendBrokenDown(out, epochMicros, true);
    out.push_back('Z');
    return out;
}

}  // namespace sensorsys::server
