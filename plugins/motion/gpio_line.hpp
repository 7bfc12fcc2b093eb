// One GPIO input line seen as edge events: the seam between the motion plugin and libgpiod, so
// the watcher runs unchanged against a kernel GPIO chip and against a test double fed edges.
// Thread-safety: a GpioLine is used by one thread at a time (the watcher's); GpioError is
// immutable.
#pragma once

#include <sensorsys/plugin_support.hpp>

#include <chrono>
#include <string>

namespace sensorsys::motion {

struct GpioEdge {
    bool rising = false;
    std::chrono::system_clock::time_point when;
};

// A failed GPIO operation; the message names the chip, the line, what failed and the errno.
// Thread-safety: immutable after construction.
class GpioError : public plugin::ReadError {
  public:
    GpioError(const std::string& chip, unsigned line, const std::string& what, int code);
};

// Thread-safety: not thread-safe; the watcher thread is its only user.
class GpioLine {
  public:
    GpioLine() = default;
    GpioLine(const GpioLine&) = delete;
    GpioLine& operator=(const GpioLine&) = delete;
    virtual ~GpioLine() = default;

    // Opens the chip and asks the kernel for rising and falling edge events. Throws GpioError.
    virtual void requestEvents() = 0;
    // True when an edge is ready to read, false after `timeout` without one. Throws GpioError.
    virtual bool waitEvent(std::chrono::milliseconds timeout) = 0;
    // The next edge; call after waitEvent returned true. Throws GpioError.
    virtual GpioEdge readEvent() = 0;
    // The line's level now (true: high). Throws GpioError.
    virtual bool getValue() = 0;
    // Gives the line back (after a failure); requestEvents starts afresh.
    virtual void release() = 0;
};

}  // namespace sensorsys::motion
