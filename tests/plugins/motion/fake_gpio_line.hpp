// A GpioLine the test feeds edges into, standing in for libgpiod (no gpio-sim here). Its state
// lives in a FakeGpio the test keeps, so the test can still look after the watcher destroyed
// the line.
// Thread-safety: all members are safe between the watcher's thread and the test's thread.
#pragma once

#include "gpio_line.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

namespace sensorsys::test {

class FakeGpio {
  public:
    // Queues an edge as the kernel would; the line's level follows it.
    void feed(const motion::GpioEdge& edge);
    // The level getValue() reports before any edge.
    void setLevel(bool high);
    // requestEvents fails with this error from now on (nothing: it succeeds).
    void failRequests(std::optional<motion::GpioError> error);
    // Blocks until every fed edge was taken and the watcher waits for the next one, i.e. it
    // has counted all of them. Throws std::runtime_error if that never happens.
    void waitUntilIdle();
    // Blocks until requestEvents was called `count` times in all.
    void waitForRequests(int count);

    int callsInProgressAtDestruction();
    bool lineDestroyed();

  private:
    friend class FakeGpioLine;
    template <class Predicate>
    void await(std::unique_lock<std::mutex>& lock, Predicate ready);

    std::mutex _mutex;
    std::condition_variable _changed;
    std::deque<motion::GpioEdge> _queue;
    bool _level = false;
    std::optional<motion::GpioError> _requestError;
    int _requests = 0;
    bool _waiting = false;
    int _inProgress = 0;
    int _inProgressAtDestruction = -1;
    bool _destroyed = false;
};

class FakeGpioLine final : public motion::GpioLine {
  public:
    explicit FakeGpioLine(std::shared_ptr<FakeGpio> gpio) : _gpio(std::move(gpio)) {}
    ~FakeGpioLine() override;

    void requestEvents() override;
    bool waitEvent(std::chrono::milliseconds timeout) override;
    motion::GpioEdge readEvent() override;
    bool getValue() override;
    void release() override {}

  private:
    std::shared_ptr<FakeGpio> _gpio;
};

}  // namespace sensorsys::test
