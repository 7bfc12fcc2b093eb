// Objects that are costly to make - a kept-alive connection, a body builder's buffers - kept
// while idle for the next user. Thread-safe; each object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace sensorsys::agent {

template <class T>
class IdlePool {
  public:
    // At most `max_idle` are kept; the bound only guards against surprises (as many are idle
    // as were in use at once).
    explicit IdlePool(std::size_t max_idle) : _maxIdle(max_idle) {}

    // An idle object, or null when there is none: the caller makes a new one.
    std::unique_ptr<T> take() {
        std::lock_guard lock(_mutex);
        if (_idle.empty()) return nullptr;
        std::unique_ptr<T> object = std::move(_idle.back());
        _idle.pop_back();
        return object;
    }

    // Kept for the next take(); dropped beyond the bound.
    void give(std::unique_ptr<T> object) {
        std::lock_guard lock(_mutex);
        if (_idle.size() < _maxIdle) _idle.push_back(std::move(object));
    }

    void clear() {
        std::lock_guard lock(_mutex);
        _idle.clear();
    }

  private:
    const std::size_t _maxIdle;
    std::mutex _mutex;
    std::vector<std::unique_ptr<T>> _idle;
};

}  // namespace sensorsys::agent
