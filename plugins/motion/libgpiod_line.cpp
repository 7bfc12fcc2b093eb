#include "libgpiod_line.hpp"

#include <gpiod.h>

#include <cerrno>

namespace sensorsys::motion {
namespace {

constexpr const char* kConsumer = "sensorsys-motion";

}  // namespace

GpioError::GpioError(const std::string& chip, unsigned line, const std::string& what, int code)
    : plugin::ReadError("GPIO chip " + chip + " line " + std::to_string(line) + ": " + what + ": " +
                        plugin::errnoText(code)) {}

void LibgpiodLine::ChipCloser::operator()(gpiod_chip* chip) const {
    ::gpiod_chip_close(chip);
}

void LibgpiodLine::LineReleaser::operator()(gpiod_line* line) const {
    ::gpiod_line_release(line);
}

LibgpiodLine::LibgpiodLine(std::string chip, unsigned offset)
    : _chipName(std::move(chip)), _offset(offset) {}

LibgpiodLine::~LibgpiodLine() = default;

GpioError LibgpiodLine::error(const std::string& what, int code) const {
    // libgpiod's lookup by name or label can fail without setting errno: nothing was found.
    return GpioError(_chipName, _offset, what, code == 0 ? ENOENT : code);
}

void LibgpiodLine::requestEvents() {
    release();
    errno = 0;
    _chip.reset(::gpiod_chip_open_lookup(_chipName.c_str()));
    if (!_chip) throw error("cannot open the chip", errno);
    errno = 0;
    gpiod_line* line = ::gpiod_chip_get_line(_chip.get(), _offset);
    if (line == nullptr) throw error("no such line on the chip", errno);
    if (::gpiod_line_request_both_edges_events(line, kConsumer) < 0) {
        throw error("cannot request edge events", errno);
    }
    _line.reset(line);
}

bool LibgpiodLine::waitEvent(std::chrono::milliseconds timeout) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const timespec wait = {static_cast<time_t>(seconds.count()),
                           static_cast<long>(std::chrono::nanoseconds(timeout - seconds).count())};
    const int ready = ::gpiod_line_event_wait(_line.get(), &wait);
    if (ready < 0) throw error("waiting for an edge failed", errno);
    return ready > 0;
}

GpioEdge LibgpiodLine::readEvent() {
    gpiod_line_event event{};
    if (::gpiod_line_event_read(_line.get(), &event) < 0) {
        throw error("reading an edge event failed", errno);
    }
    // The event's own stamp is CLOCK_MONOTONIC on current kernels (CLOCK_REALTIME before 5.7),
    // so the calendar time is taken here, microseconds after the kernel queued the edge.
    return {event.event_type == GPIOD_LINE_EVENT_RISING_EDGE, std::chrono::system_clock::now()};
}

bool LibgpiodLine::getValue() {
    const int value = ::gpiod_line_get_value(_line.get());
    if (value < 0) throw error("reading the level failed", errno);
    return value > 0;
}

void LibgpiodLine::release() {
    _line.reset();
    _chip.reset();
}

}  // namespace sensorsys::motion
