// The batches one drain has on the wire at once, and the one mark of a confirmed batch that
// may still be running, so that neither the agent nor the server waits on the other.
//
// Contract:
// - fill() reads batches from the store oldest first, each after the previous one's last id,
//   and starts sending each as soon as it is read, on a thread of its own (or, with no thread
//   to spare, when its answer is asked for), until `width` batches are in flight, the store has
//   nothing more after the last batch read, or `stop` is set.
// - Answers are taken in the order the batches were sent: frontBatch()/frontAnswer() are the
//   oldest flight's, popFront() drops it. restart() makes the next fill() read from the oldest
//   unsynced reading again, so that what was sent but not confirmed is sent again.
// - At most one mark (markSynced of a batch the server confirmed in full) runs beside the
//   flights; settle() waits for it, reports how many readings it marked and rethrows what the
//   store threw. A mark must be settled before the next one starts.
// - Destroying the window waits for the requests on the wire and the mark; a batch that never
//   got a thread is dropped unsent (it is still unsynced in the store).
// Thread-safety: one owner thread (the sync thread); `send` runs concurrently on the flights'
// threads, each with its own batch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <span>
#include <vector>

#include "store/reading_store.hpp"
#include "sync/bulk_client.hpp"

namespace sensorsys::agent {

class FlightWindow {
  public:
    // Sends one batch and says what the server answered; must not throw.
    using Send = std::function<BulkAnswer(std::span<const StoredReading>)>;

    // `width` batches of up to `batchSize` readings at once (a width of 0 counts as 1).
    FlightWindow(ReadingStore& store, std::size_t batchSize, std::size_t width, Send send);
    ~FlightWindow();
    FlightWindow(const FlightWindow&) = delete;
    FlightWindow& operator=(const FlightWindow&) = delete;

    // Reads and sends batches until the window is full, the store is exhausted or `stop` is
    // set. A store that cannot be read throws when nothing is in flight; otherwise the batch
    // is left for a later fill(), once an answer is in.
    void fill(const std::atomic<bool>& stop);

    bool empty() const { return _flights.empty(); }
    std::size_t size() const { return _flights.size(); }
    std::size_t width() const { return _width; }

    // The oldest flight's batch and answer (waits for it; once per flight). Not when empty().
    std::span<const StoredReading> frontBatch() const;
    BulkAnswer frontAnswer();
    void popFront();
    // Waits until every flight's answer is in (sending those that got no thread).
    void land();
    // The next fill() reads from the oldest unsynced reading again.
    void restart();

    // Marks `ids` synced beside the flights. Throws std::logic_error if a mark is pending.
    void startMark(std::vector<std::int64_t> ids);
    // Waits for the pending mark: how many readings it marked, 0 when none was pending.
    // Rethrows the store's exception (the readings stay unsynced); nothing is pending after.
    std::size_t settle();

  private:
    struct Flight {
        std::vector<StoredReading> batch;
        std::future<BulkAnswer> answer;  // after `batch`: destroyed (waited for) first
    };
    // Sends a batch just read (not empty) on a thread of its own.
    void launch(std::vector<StoredReading> batch);

    ReadingStore& _store;
    std::size_t _batchSize;
    std::size_t _width;
    Send _send;
    std::int64_t _after = 0;
    bool _exhausted = false;  // the store has nothing after `_after` (for now)
    std::future<void> _marking;
    std::size_t _markingCount = 0;
    // A deque keeps its elements in place, so each send may refer to its own Flight. Last, so
    // the flights land before anything they use goes.
    std::deque<Flight> _flights;
};

}  // namespace sensorsys::agent
