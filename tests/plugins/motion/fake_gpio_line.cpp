#include "fake_gpio_line.hpp"

#include <stdexcept>

namespace sensorsys::test {

// Generous: only a watcher that stopped taking edges runs into it.
constexpr auto kHandOffLimit = std::chrono::seconds(30);

template <class Predicate>
void FakeGpio::await(std::unique_lock<std::mutex>& lock, Predicate ready) {
    if (!_changed.wait_for(lock, kHandOffLimit, ready)) {
        throw std::runtime_error("the motion watcher did not take the fed edges");
    }
}

void FakeGpio::feed(const motion::GpioEdge& edge) {
    std::lock_guard lock(_mutex);
    _queue.push_back(edge);
    _changed.notify_all();
}

void FakeGpio::setLevel(bool high) {
    std::lock_guard lock(_mutex);
    _level = high;
}

void FakeGpio::failRequests(std::optional<motion::GpioError> error) {
    std::lock_guard lock(_mutex);
    _requestError = std::move(error);
}

void FakeGpio::waitUntilIdle() {
    std::unique_lock lock(_mutex);
    await(lock, [&] { return _queue.empty() && _waiting; });
}

void FakeGpio::waitForRequests(int count) {
    std::unique_lock lock(_mutex);
    await(lock, [&] { return _requests >= count; });
}

int FakeGpio::callsInProgressAtDestruction() {
    std::lock_guard lock(_mutex);
    return _inProgressAtDestruction;
}

bool FakeGpio::lineDestroyed() {
    std::lock_guard lock(_mutex);
    return _destroyed;
}

FakeGpioLine::~FakeGpioLine() {
    std::lock_guard lock(_gpio->_mutex);
    _gpio->_destroyed = true;
    _gpio->_inProgressAtDestruction = _gpio->_inProgress;
}

void FakeGpioLine::requestEvents() {
    std::lock_guard lock(_gpio->_mutex);
    ++_gpio->_requests;
    _gpio->_changed.notify_all();
    if (_gpio->_requestError) throw *_gpio->_requestError;
}

bool FakeGpioLine::waitEvent(std::chrono::milliseconds timeout) {
    std::unique_lock lock(_gpio->_mutex);
    ++_gpio->_inProgress;
    _gpio->_waiting = true;
    _gpio->_changed.notify_all();
    const bool ready =
        _gpio->_changed.wait_for(lock, timeout, [&] { return !_gpio->_queue.empty(); });
    _gpio->_waiting = false;
    --_gpio->_inProgress;
    return ready;
}

motion::GpioEdge FakeGpioLine::readEvent() {
    std::lock_guard lock(_gpio->_mutex);
    const motion::GpioEdge edge = _gpio->_queue.front();
    _gpio->_queue.pop_front();
    _gpio->_level = edge.rising;
    return edge;
}

bool FakeGpioLine::getValue() {
    std::lock_guard lock(_gpio->_mutex);
    return _gpio->_level;
}

}  // namespace sensorsys::test
