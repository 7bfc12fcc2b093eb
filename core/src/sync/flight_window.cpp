#include "sync/flight_window.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace sensorsys::agent {

FlightWindow::FlightWindow(ReadingStore& store, std::size_t batchSize, std::size_t width, Send send)
    : _store(store),
      _batchSize(batchSize),
      _width(std::max<std::size_t>(width, 1)),
      _send(std::move(send)) {}

FlightWindow::~FlightWindow() = default;

void FlightWindow::fill(const std::atomic<bool>& stop) {
    while (!stop.load() && !_exhausted && _flights.size() < _width) {
        std::vector<StoredReading> batch;
        try {
            batch = _store.oldestUnsynced(_batchSize, _after);
        } catch (const std::exception&) {
            if (_flights.empty()) throw;
            return;
        }
        if (batch.empty()) {
            _exhausted = true;
            return;
        }
        launch(std::move(batch));
    }
}

void FlightWindow::launch(std::vector<StoredReading> batch) {
    _after = batch.back().id;
    Flight& flight = _flights.emplace_back(Flight{std::move(batch), {}});
    // The body is built on the flight's own thread too: the sync thread only reads.
    auto work = [this, &flight] { return _send(flight.batch); };
    try {
        flight.answer = std::async(std::launch::async, work);
    } catch (const std::system_error&) {
        // No thread to spare: sent when its answer is asked for.
        flight.answer = std::async(std::launch::deferred, work);
    }
}

std::span<const StoredReading> FlightWindow::frontBatch() const {
    return _flights.front().batch;
}

BulkAnswer FlightWindow::frontAnswer() {
    return _flights.front().answer.get();
}

void FlightWindow::popFront() {
    _flights.pop_front();
}

void FlightWindow::land() {
    for (auto& flight : _flights) {
        if (flight.answer.valid()) flight.answer.wait();
    }
}

void FlightWindow::restart() {
    _after = 0;
    _exhausted = false;
}

void FlightWindow::startMark(std::vector<std::int64_t> ids) {
    if (_marking.valid()) throw std::logic_error("FlightWindow: a mark is still pending");
    _markingCount = ids.size();
    auto mark = [this, ids = std::move(ids)] { _store.markSynced(ids); };
    try {
        _marking = std::async(std::launch::async, mark);  // copied: kept for the fallback
    } catch (const std::system_error&) {
        // No thread to spare: marked when settled.
        _marking = std::async(std::launch::deferred, std::move(mark));
    }
}

std::size_t FlightWindow::settle() {
    if (!_marking.valid()) return 0;
    const std::size_t count = std::exchange(_markingCount, 0);
    _marking.get();
    return count;
}

}  // namespace sensorsys::agent
