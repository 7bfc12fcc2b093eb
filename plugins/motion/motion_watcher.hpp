// A PIR sensor's output line watched by a thread of its own, which counts every edge as the
// kernel reports it; read() is a snapshot of what was seen since the previous read and never
// waits for an edge.
// Thread-safety: read() may be called from any one thread while the watcher's thread runs;
// the destructor stops and joins the thread before the line is given back.
#pragma once

#include "gpio_line.hpp"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace sensorsys::motion {

// How long the thread waits for an edge before it looks for a stop request: destroy's delay.
inline constexpr auto kEventPoll = std::chrono::milliseconds(100);
// After a failure (chip missing, line busy) the thread tries the line again this often.
inline constexpr auto kRetryDelay = std::chrono::seconds(1);

class MotionWatcher {
  public:
    explicit MotionWatcher(std::unique_ptr<GpioLine> line);
    ~MotionWatcher();
    MotionWatcher(const MotionWatcher&) = delete;
    MotionWatcher& operator=(const MotionWatcher&) = delete;

    // {"motion": B, "events": N, "last_change": "<RFC 3339 UTC with ms>" or null}: motion is
    // true when the line is high now or went high since the previous read, events the edges
    // since then. Starts the next period. Throws plugin::ReadError while the line fails.
    std::string read();

  private:
    void run(std::stop_token stop);
    void watch(std::stop_token stop);
    void record(const GpioEdge& edge);

    std::unique_ptr<GpioLine> _line;

    std::mutex _mutex;
    std::condition_variable_any _wake;  // only for stop-aware retry pauses
    bool _level = false;
    bool _rose = false;
    std::uint64_t _events = 0;
    std::optional<std::chrono::system_clock::time_point> _lastChange;
    std::string _error;

    std::jthread _thread;  // last: starts after every member above exists, stops first
};

}  // namespace sensorsys::motion
