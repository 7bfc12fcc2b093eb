// FlightWindow's contract: batches read oldest first and sent up to the window's width,
// answers taken in sending order, restart from the oldest unsynced reading, one mark at a time.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sync/flight_window.hpp"

namespace sensorsys::agent {
namespace {

// Readings 1..n in memory; reads and marks can be made to fail.
class FakeStore final : public ReadingStore {
  public:
    explicit FakeStore(std::int64_t count) {
        for (std::int64_t id = 1; id <= count; ++id) append(id);
    }
    void append(std::int64_t id) {
        std::lock_guard lock(_mutex);
        _readings.push_back({id, "r" + std::to_string(id), "{}"});
    }
    void add(const StoredReading& reading) override { append(reading.id); }
    std::vector<StoredReading> oldestUnsynced(std::size_t limit, std::int64_t after_id) override {
        std::lock_guard lock(_mutex);
        if (readsLeft == 0) throw StoreUnavailable("store down");
        if (readsLeft > 0) --readsLeft;
        std::vector<StoredReading> out;
        for (const auto& reading : _readings) {
            if (out.size() == limit) break;
            if (reading.id > after_id && _synced.count(reading.id) == 0) out.push_back(reading);
        }
        return out;
    }
    void markSynced(const std::vector<std::int64_t>& ids) override {
        std::lock_guard lock(_mutex);
        if (failMarks) throw StoreUnavailable("disk full");
        _synced.insert(ids.begin(), ids.end());
    }
    void quarantine(const std::vector<std::pair<std::int64_t, std::string>>&) override {}
    StoreStats stats() override { return {}; }
    RetentionResult deleteStratified(std::int64_t, std::int64_t) override { return {}; }
    void compact() override {}
    std::string filesystemPath() const override { return {}; }

    std::set<std::int64_t> synced() {
        std::lock_guard lock(_mutex);
        return _synced;
    }

    int readsLeft = -1;  // reads that succeed before the store fails; -1: never fails
    bool failMarks = false;

  private:
    std::mutex _mutex;
    std::vector<StoredReading> _readings;
    std::set<std::int64_t> _synced;
};

std::vector<std::int64_t> idsOf(std::span<const StoredReading> batch) {
    std::vector<std::int64_t> ids;
    for (const auto& reading : batch) ids.push_back(reading.id);
    return ids;
}

// Answers every batch with its first id as the message.
BulkAnswer acceptFirstId(std::span<const StoredReading> batch) {
    BulkAnswer answer;
    answer.kind = AnswerKind::Accepted;
    answer.message = std::to_string(batch.front().id);
    return answer;
}

const std::atomic<bool> kNoStop{false};

TEST(FlightWindow, FillsUpToItsWidthOldestFirstEachBatchAfterThePrevious) {
    FakeStore store(10);
    FlightWindow window(store, 3, 2, acceptFirstId);
    window.fill(kNoStop);
    ASSERT_EQ(window.size(), 2u);
    EXPECT_EQ(idsOf(window.frontBatch()), (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(window.frontAnswer().message, "1");
    window.popFront();
    EXPECT_EQ(idsOf(window.frontBatch()), (std::vector<std::int64_t>{4, 5, 6}));
    window.fill(kNoStop);
    ASSERT_EQ(window.size(), 2u);
    EXPECT_EQ(window.frontAnswer().message, "4");
    window.popFront();
    EXPECT_EQ(idsOf(window.frontBatch()), (std::vector<std::int64_t>{7, 8, 9}));
}

TEST(FlightWindow, AWidthOfZeroSendsOneBatchAtATime) {
    FakeStore store(10);
    FlightWindow window(store, 3, 0, acceptFirstId);
    EXPECT_EQ(window.width(), 1u);
    window.fill(kNoStop);
    EXPECT_EQ(window.size(), 1u);
}

TEST(FlightWindow, NothingIsReadOrSentOnceStopIsSet) {
    FakeStore store(10);
    int sent = 0;
    {
        FlightWindow window(store, 3, 2, [&](std::span<const StoredReading> batch) {
            ++sent;
            return acceptFirstId(batch);
        });
        const std::atomic<bool> stop{true};
        window.fill(stop);
        EXPECT_TRUE(window.empty());
    }
    EXPECT_EQ(sent, 0);
}

TEST(FlightWindow, AnswersComeInSendingOrderEvenWhenALaterOneArrivesFirst) {
    FakeStore store(2);
    std::promise<void> secondAnswered;
    auto secondDone = secondAnswered.get_future().share();
    FlightWindow window(store, 1, 2, [&](std::span<const StoredReading> batch) {
        if (batch.front().id == 1) {
            secondDone.wait();
        } else {
            secondAnswered.set_value();
        }
        return acceptFirstId(batch);
    });
    window.fill(kNoStop);
    ASSERT_EQ(window.size(), 2u);
    EXPECT_EQ(window.frontAnswer().message, "1");
    window.popFront();
    EXPECT_EQ(window.frontAnswer().message, "2");
}

TEST(FlightWindow, AnExhaustedStoreIsReadAgainFromTheOldestOnlyAfterRestart) {
    FakeStore store(2);
    FlightWindow window(store, 5, 2, acceptFirstId);
    window.fill(kNoStop);
    ASSERT_EQ(window.size(), 1u);
    window.frontAnswer();
    window.popFront();
    store.append(3);
    window.fill(kNoStop);
    EXPECT_TRUE(window.empty());  // exhausted until restarted
    window.restart();
    window.fill(kNoStop);
    ASSERT_EQ(window.size(), 1u);  // nothing was marked: 1 and 2 are sent again, with 3
    EXPECT_EQ(idsOf(window.frontBatch()), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(FlightWindow, AnUnreadableStoreThrowsOnlyWhenNothingIsInFlight) {
    FakeStore store(10);
    store.readsLeft = 1;
    FlightWindow window(store, 3, 2, acceptFirstId);
    EXPECT_NO_THROW(window.fill(kNoStop));
    ASSERT_EQ(window.size(), 1u);
    window.frontAnswer();
    window.popFront();
    EXPECT_THROW(window.fill(kNoStop), StoreUnavailable);
    store.readsLeft = -1;
    window.fill(kNoStop);
    EXPECT_EQ(idsOf(window.frontBatch()), (std::vector<std::int64_t>{4, 5, 6}));
}

// Sends that are answered only once the gate opens (from another thread, a little later), and
// counted: a window that did not wait for them would see fewer answers than flights.
class GatedSends {
  public:
    GatedSends() : _gate(_open.get_future().share()) {}
    ~GatedSends() {
        if (_opener.joinable()) _opener.join();
    }
    FlightWindow::Send send() {
        return [this](std::span<const StoredReading> batch) {
            _gate.wait();
            ++_answered;
            return acceptFirstId(batch);
        };
    }
    void openSoon() {
        _opener = std::thread([this] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            _open.set_value();
        });
    }
    int answered() const { return _answered.load(); }

  private:
    std::promise<void> _open;
    std::shared_future<void> _gate;
    std::atomic<int> _answered{0};
    std::thread _opener;
};

TEST(FlightWindow, LandWaitsForEveryAnswer) {
    FakeStore store(6);
    GatedSends sends;
    FlightWindow window(store, 2, 3, sends.send());
    window.fill(kNoStop);
    sends.openSoon();
    ASSERT_EQ(window.size(), 3u);
    window.land();
    EXPECT_EQ(sends.answered(), 3);
}

TEST(FlightWindow, DestroyingItWaitsForTheRequestsOnTheWire) {
    FakeStore store(6);
    GatedSends sends;
    {
        FlightWindow window(store, 2, 3, sends.send());
        window.fill(kNoStop);
        sends.openSoon();
    }
    EXPECT_EQ(sends.answered(), 3);
}

TEST(FlightWindow, SettleReportsWhatTheMarkMarkedOnce) {
    FakeStore store(5);
    FlightWindow window(store, 5, 1, acceptFirstId);
    EXPECT_EQ(window.settle(), 0u);
    window.startMark({1, 2, 3});
    EXPECT_EQ(window.settle(), 3u);
    EXPECT_EQ(store.synced(), (std::set<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(window.settle(), 0u);
}

TEST(FlightWindow, ASecondMarkBeforeTheFirstIsSettledIsRefused) {
    FakeStore store(5);
    FlightWindow window(store, 5, 1, acceptFirstId);
    window.startMark({1});
    EXPECT_THROW(window.startMark({2}), std::logic_error);
    EXPECT_EQ(window.settle(), 1u);
    EXPECT_EQ(store.synced(), (std::set<std::int64_t>{1}));
}

TEST(FlightWindow, SettleRethrowsAFailedMarkAndNothingStaysPending) {
    FakeStore store(5);
    store.failMarks = true;
    FlightWindow window(store, 5, 1, acceptFirstId);
    window.startMark({1, 2});
    EXPECT_THROW(window.settle(), StoreUnavailable);
    EXPECT_TRUE(store.synced().empty());
    EXPECT_EQ(window.settle(), 0u);
    store.failMarks = false;
    window.startMark({2});
    EXPECT_EQ(window.settle(), 1u);
}

}  // namespace
}  // namespace sensorsys::agent
