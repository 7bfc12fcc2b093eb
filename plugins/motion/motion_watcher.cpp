#include "motion_watcher.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include <utility>

namespace sensorsys::motion {
namespace {

// "2026-12-04T20:41:07.123Z".
std::string rfc3339Millis(std::chrono::system_clock::time_point time) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    return Poco::DateTimeFormatter::format(Poco::Timestamp(micros), "%Y-%m-%dT%H:%M:%S.%iZ");
}

}  // namespace

MotionWatcher::MotionWatcher(std::unique_ptr<GpioLine> line) : _line(std::move(line)) {
    _thread = std::jthread([this](std::stop_token stop) { run(stop); });
}

MotionWatcher::~MotionWatcher() {
    _thread.request_stop();
    _thread.join();
}

std::string MotionWatcher::read() {
    std::lock_guard lock(_mutex);
    if (!_error.empty()) throw plugin::ReadError(_error);
    const bool motion = _level || _rose;
    const std::uint64_t events = std::exchange(_events, 0);
    _rose = false;
    return std::string("{\"motion\": ") + (motion ? "true" : "false") +
           ", \"events\": " + std::to_string(events) + ", \"last_change\": " +
           (_lastChange ? "\"" + rfc3339Millis(*_lastChange) + "\"" : std::string("null")) + "}";
}

void MotionWatcher::run(std::stop_token stop) {
    while (!stop.stop_requested()) {
        try {
            watch(stop);
        } catch (const plugin::ReadError& e) {
            _line->release();
            std::unique_lock lock(_mutex);
            _error = e.what();
            _wake.wait_for(lock, stop, kRetryDelay, [] { return false; });
        }
    }
}

void MotionWatcher::watch(std::stop_token stop) {
    _line->requestEvents();
    const bool level = _line->getValue();
    {
        std::lock_guard lock(_mutex);
        _level = level;
        _rose = _rose || level;
        _error.clear();
    }
    while (!stop.stop_requested()) {
        if (_line->waitEvent(kEventPoll)) record(_line->readEvent());
    }
}

void MotionWatcher::record(const GpioEdge& edge) {
    std::lock_guard lock(_mutex);
    _level = edge.rising;
    _rose = _rose || edge.rising;
    ++_events;
    _lastChange = edge.when;
}

}  // namespace sensorsys::motion
