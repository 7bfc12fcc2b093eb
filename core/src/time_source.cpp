#include "time_source.hpp"

#include <stdexcept>

#include <cctype>
#include <cstdio>
#include <ctime>

namespace sensorsys::agent {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::system_clock;

ClockMode parseClockMode(std::string_view text) {
    if (text == "auto") return ClockMode::Auto;
    if (text == "kernel") return ClockMode::Kernel;
    if (text == "server") return ClockMode::Server;
    if (text == "local") return ClockMode::Local;
    throw std::invalid_argument("agent.clock_source: not auto|kernel|server|local: " +
                                std::string(text));
}

std::string originName(TimeOrigin origin) {
    switch (origin) {
        case TimeOrigin::Kernel:
            return "kernel";
        case TimeOrigin::Server:
            return "server";
        case TimeOrigin::Local:
            return "local";
        case TimeOrigin::None:
            break;
    }
    return "none";
}

std::optional<system_clock::time_point> parseUtc(std::string_view text) {
    // Strict: the form the server sends, "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", nothing else.
    const std::string s(text);
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        consumed != 19) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::int64_t micros = 0;
    if (pos < s.size() && s[pos] == '.') {
        std::int64_t scale = 100'000;
        for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
            micros += (s[pos] - '0') * scale;
            scale /= 10;
        }
    }
    if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t seconds = ::timegm(&tm);
    return system_clock::time_point(std::chrono::seconds(seconds) + microseconds(micros));
}

TimeSource::TimeSource(ClockSeam& seam, ClockMode mode, microseconds max_error)
    : _seam(seam), _mode(mode), _maxError(max_error) {
    if (_mode == ClockMode::Local) {
        std::lock_guard lock(_mutex);
        takeLocked(TimeOrigin::Local, _seam.wallNow().time_since_epoch() - _seam.boottime());
    }
}

void TimeSource::takeLocked(TimeOrigin origin, nanoseconds base) {
    const auto wall_base = _seam.wallNow().time_since_epoch() - _seam.boottime();
    if (origin != _origin)
        _since = system_clock::time_point(duration_cast<microseconds>(base + _seam.boottime()));
    _origin = origin;
    _base = base;
    _offset = duration_cast<microseconds>(base - wall_base);
}

void TimeSource::checkKernelLocked() {
    if (_mode != ClockMode::Auto && _mode != ClockMode::Kernel) return;
    const KernelClockState state = _seam.kernelState();
    if (!state.synchronised || state.maxError >= _maxError) return;
    takeLocked(TimeOrigin::Kernel, _seam.wallNow().time_since_epoch() - _seam.boottime());
}

TimeStamp TimeSource::stampNow() {
    std::lock_guard lock(_mutex);
    if (_mode != ClockMode::Local) checkKernelLocked();
    TimeStamp stamp;
    stamp.boottime = _seam.boottime();
    const auto wall = _seam.wallNow();
    if (_origin == TimeOrigin::None) {
        stamp.time = wall;
        stamp.held = true;
        return stamp;
    }
    if (_origin == TimeOrigin::Local) {
        stamp.time = wall;
        return stamp;
    }
    stamp.time =
        system_clock::time_point(duration_cast<system_clock::duration>(_base + stamp.boottime));
    const auto error = stamp.time > wall ? stamp.time - wall : wall - stamp.time;
    stamp.corrected = error > _maxError;
    return stamp;
}

std::optional<system_clock::time_point> TimeSource::timeAt(nanoseconds boottime) {
    std::lock_guard lock(_mutex);
    if (_origin == TimeOrigin::None) checkKernelLocked();
    if (_origin == TimeOrigin::None) return std::nullopt;
    return system_clock::time_point(duration_cast<system_clock::duration>(_base + boottime));
}

bool TimeSource::offerServerTime(std::string_view header, nanoseconds sent, nanoseconds received) {
    if (_mode != ClockMode::Auto && _mode != ClockMode::Server) return false;
    const auto server = parseUtc(header);
    if (!server || received < sent || received - sent >= _maxError) return false;
    std::lock_guard lock(_mutex);
    // A synchronised kernel comes first in auto mode; the server stands in when it is not.
    if (_origin == TimeOrigin::Kernel) checkKernelLocked();
    if (_origin == TimeOrigin::Kernel && _seam.kernelState().synchronised) return false;
    const auto midpoint = sent + (received - sent) / 2;
    takeLocked(TimeOrigin::Server, server->time_since_epoch() - midpoint);
    return true;
}

bool TimeSource::known() {
    std::lock_guard lock(_mutex);
    if (_origin == TimeOrigin::None) checkKernelLocked();
    return _origin != TimeOrigin::None;
}

bool TimeSource::wantsServerTime() {
    return _mode == ClockMode::Auto || _mode == ClockMode::Server;
}

TimeStatus TimeSource::status() {
    std::lock_guard lock(_mutex);
    return TimeStatus{_origin, _since, _offset};
}

}  // namespace sensorsys::agent
