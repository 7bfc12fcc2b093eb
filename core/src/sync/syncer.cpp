#include "sync/syncer.hpp"

#include <algorithm>
#include <deque>
#include <future>
#include <set>
#include <system_error>

namespace sensorsys::agent {

Syncer::Syncer(ReadingStore& store, BulkClient& client, SyncSettings settings, Poco::Logger& logger)
    : _store(store),
      _client(client),
      _settings(settings),
      _logger(logger),
      _backoff(settings.backoff_base, settings.backoff_max) {}

SyncState Syncer::state() const {
    std::lock_guard lock(_mutex);
    return _state;
}

void Syncer::record(const std::string& result, bool success) {
    std::lock_guard lock(_mutex);
    const auto now = std::chrono::system_clock::now();
    _state.last_result = result;
    _state.last_attempt = now;
    if (success) _state.last_success = now;
}

std::chrono::milliseconds Syncer::failed(const std::string& what, bool loud) {
    const auto wait = _backoff.next();
    const std::string text = what + "; retrying in " + std::to_string(wait.count()) + " ms";
    loud ? _logger.error(text) : _logger.warning(text);
    record(what, false);
    return wait;
}

std::optional<std::chrono::milliseconds> Syncer::drain(const std::atomic<bool>& stop) {
    // Pipelined, so that neither the agent nor the server waits on the other: up to
    // `in_flight` batches are on the wire at once (each sent from its own thread on its own
    // connection), the next one is read from the store and encoded meanwhile, and the last
    // batch the server confirmed in full is marked synced on another thread (that commit's
    // fsync is the slow part on an SD card). Batches are read oldest first, each after the
    // previous one's last id, and their answers are dealt with in the order they were sent.
    // A mark is settled before anything else touches a batch's fate. Anything but a clean
    // success stops the pipeline: the requests still in flight land, every answer is dealt
    // with in order, synchronously, and reading starts again from the oldest unsynced
    // reading - a batch whose answer was lost is simply sent again, and the server counts it
    // as duplicates.
    // The body builders' buffers (~0.5 MB each) pay for themselves batch after batch; between
    // drains (one reading a minute) they are not worth keeping. Freed last, once every flight
    // below has landed.
    struct ReleaseBuilders {
        IdlePool<BodyBuilder>& builders;
        ~ReleaseBuilders() { builders.clear(); }
    } release_builders{_builders};
    std::future<void> marking;
    std::size_t marking_count = 0;
    auto settle = [&]() -> std::optional<std::chrono::milliseconds> {
        if (!marking.valid()) return std::nullopt;
        try {
            marking.get();
        } catch (const std::exception& e) {
            // The server has those readings; they stay unsynced and are resent later, where
            // the server counts them as duplicates.
            return failed(std::string("sync: cannot update the store: ") + e.what(), false);
        }
        std::lock_guard lock(_mutex);
        _state.synced += static_cast<std::int64_t>(marking_count);
        return std::nullopt;
    };

    struct Flight {
        std::vector<StoredReading> batch;
        std::future<BulkAnswer> answer;
    };
    // A deque keeps its elements in place, so each send may refer to its own Flight.
    std::deque<Flight> flights;
    std::int64_t after = 0;
    bool exhausted = false;  // the store has nothing after `after` (for now)
    const std::size_t window = std::max<std::size_t>(_settings.in_flight, 1);
    // Reads and sends batches until `window` are in flight or the store has nothing more.
    // A store that cannot be read throws when nothing is in flight; otherwise it is tried
    // again once an answer is in.
    auto fill = [&] {
        while (!stop.load() && !exhausted && flights.size() < window) {
            std::vector<StoredReading> batch;
            try {
                batch = _store.oldestUnsynced(_settings.batch_size, after);
            } catch (const std::exception&) {
                if (flights.empty()) throw;
                return;
            }
            if (batch.empty()) {
                exhausted = true;
                return;
            }
            after = batch.back().id;
            Flight& flight = flights.emplace_back(Flight{std::move(batch), {}});
            // post() builds the body on the flight's own thread too: the sync thread only reads.
            auto work = [this, &flight] { return post(flight.batch); };
            try {
                flight.answer = std::async(std::launch::async, work);
            } catch (const std::system_error&) {
                // No thread to spare: sent when its answer is asked for.
                flight.answer = std::async(std::launch::deferred, work);
            }
        }
    };
    for (;;) {
        try {
            fill();
        } catch (const std::exception& e) {
            if (auto wait = settle()) return wait;
            return failed(std::string("sync: cannot read the store: ") + e.what(), false);
        }
        if (flights.empty()) return settle();

        const BulkAnswer answer = flights.front().answer.get();
        const auto& batch = flights.front().batch;
        if (answer.kind == AnswerKind::Accepted && answer.rejected.empty()) {
            std::vector<std::int64_t> ids;
            ids.reserve(batch.size());
            for (const auto& reading : batch) ids.push_back(reading.id);
            _backoff.reset();
            record("ok: " + answer.message, true);
            _logger.debug("sync: " + std::to_string(batch.size()) + " readings: " + answer.message);
            flights.pop_front();
            // The next batch goes out before the mark takes the store (and its fsync).
            try {
                fill();
            } catch (const std::exception&) {
                // Reported by the fill at the top of the loop.
            }
            if (auto wait = settle()) return wait;  // (the flights still out land first)
            marking_count = ids.size();
            auto mark = [this, ids = std::move(ids)] { _store.markSynced(ids); };
            try {
                marking = std::async(std::launch::async, mark);  // copied: kept for the fallback
            } catch (const std::system_error&) {
                // No thread to spare: marked when settled.
                marking = std::async(std::launch::deferred, std::move(mark));
            }
            continue;
        }

        // Rejected items, refusals, failures: the rest of the flights land first, then every
        // answer is dealt with here, in order.
        if (auto wait = settle()) return wait;  // (the flights still out land first)
        for (auto& flight : flights) {
            if (flight.answer.valid()) flight.answer.wait();
        }
        auto wait = handle(batch, answer);
        flights.pop_front();
        for (; !flights.empty(); flights.pop_front()) {
            const BulkAnswer later = flights.front().answer.get();
            // Only what the server took is recorded; the rest is read again below.
            if (later.kind != AnswerKind::Accepted) continue;
            if (auto failure = handle(flights.front().batch, later); !wait) {
                wait = failure;
            }
        }
        if (wait) return wait;
        after = 0;
        exhausted = false;
    }
}

BulkBody Syncer::bodyOf(std::span<const StoredReading> batch, bool gzip) {
    std::unique_ptr<BodyBuilder> builder = _builders.take();
    if (!builder) builder = std::make_unique<BodyBuilder>();
    std::vector<std::string_view> items;
    items.reserve(batch.size());
    for (const auto& reading : batch) items.emplace_back(reading.json);
    BulkBody body = builder->build(items, gzip);
    _builders.give(std::move(builder));
    return body;
}

bool Syncer::wantsGzip() const {
    return _settings.gzip && !state().plain_bodies;
}

BulkAnswer Syncer::post(std::span<const StoredReading> batch) {
    return send(batch, wantsGzip());
}

BulkAnswer Syncer::send(std::span<const StoredReading> batch, bool gzip) {
    BulkBody body;
    try {
        body = bodyOf(batch, gzip);
    } catch (const std::exception& e) {
        // (zlib or memory): a failed attempt like any other, retried after a backoff - an
        // exception must not leave the sync thread.
        BulkAnswer failed;
        failed.kind = AnswerKind::Failed;
        failed.message = std::string("cannot build the request body: ") + e.what();
        return failed;
    }
    const BulkAnswer answer = _client.send(body);
    {
        std::lock_guard lock(_mutex);
        ++_state.requests;
    }
    if (answer.kind == AnswerKind::WantsPlain && gzip) {
        _logger.warning("sync: server refused a gzip body (" + answer.message +
                        "); sending plain JSON from now on");
        {
            std::lock_guard lock(_mutex);
            _state.plain_bodies = true;
        }
        return send(batch, false);
    }
    return answer;
}

std::optional<std::chrono::milliseconds> Syncer::deliver(std::span<const StoredReading> batch) {
    return handle(batch, post(batch));
}

std::optional<std::chrono::milliseconds> Syncer::handle(std::span<const StoredReading> batch,
                                                        const BulkAnswer& answer) {
    try {
        switch (answer.kind) {
            case AnswerKind::Accepted: {
                std::vector<std::pair<std::int64_t, std::string>> refused;
                std::set<std::size_t> refused_index;
                for (const auto& [index, reason] : answer.rejected) {
                    refused.emplace_back(batch[index].id, reason);
                    refused_index.insert(index);
                    _logger.warning("sync: server rejected reading " + batch[index].reading_id +
                                    " (" + reason + "); quarantined, not resent");
                }
                std::vector<std::int64_t> stored;
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    if (refused_index.count(i) == 0) stored.push_back(batch[i].id);
                }
                if (!refused.empty()) _store.quarantine(refused);
                _store.markSynced(stored);
                _backoff.reset();
                {
                    std::lock_guard lock(_mutex);
                    _state.synced += static_cast<std::int64_t>(stored.size());
                    _state.quarantined += static_cast<std::int64_t>(refused.size());
                }
                record("ok: " + answer.message, true);
                _logger.debug("sync: " + std::to_string(batch.size()) +
                              " readings: " + answer.message);
                return std::nullopt;
            }
            case AnswerKind::RequestRefused: {
                if (batch.size() == 1) {
                    _logger.warning("sync: server refused reading " + batch[0].reading_id +
                                    " on its own (" + answer.message +
                                    "); quarantined, not resent");
                    _store.quarantine({{batch[0].id, answer.message}});
                    std::lock_guard lock(_mutex);
                    ++_state.quarantined;
                    return std::nullopt;
                }
                // Find the bad reading(s) by halving; the good halves are stored on the way.
                const std::size_t half = batch.size() / 2;
                if (auto wait = deliver(batch.first(half))) return wait;
                return deliver(batch.subspan(half));
            }
            case AnswerKind::ConfigProblem:
                return failed("sync: " + answer.message +
                                  " — check sync.url and sync.token; nothing is dropped",
                              true);
            case AnswerKind::RetryLater:
                if (answer.retry_after) {
                    const auto wait = std::min<std::chrono::milliseconds>(*answer.retry_after,
                                                                          _settings.backoff_max);
                    _logger.warning("sync: " + answer.message + "; server asks to retry in " +
                                    std::to_string(wait.count()) + " ms");
                    record(answer.message, false);
                    return wait;
                }
                return failed("sync: " + answer.message, false);
            case AnswerKind::WantsPlain:  // only after a plain resend: treat as misconfigured
            case AnswerKind::Failed:
                return failed("sync: " + answer.message, answer.kind == AnswerKind::WantsPlain);
        }
    } catch (const std::exception& e) {
        // The server has the readings but the store could not record it: they are resent
        // later and the server counts them as duplicates.
        return failed(std::string("sync: cannot update the store: ") + e.what(), false);
    }
    return std::nullopt;
}

SyncThread::SyncThread(Syncer& syncer) : _syncer(syncer), _thread([this] { run(); }) {}

SyncThread::~SyncThread() {
    if (_thread.joinable()) {
        stop(std::chrono::hours(1));
        if (_thread.joinable()) _thread.join();
    }
}

void SyncThread::wake() {
    {
        std::lock_guard lock(_mutex);
        _woken = true;
    }
    _wake.notify_all();
}

bool SyncThread::stop(std::chrono::milliseconds limit) {
    _stopping.store(true);
    wake();
    std::unique_lock lock(_mutex);
    if (!_done.wait_for(lock, limit, [this] { return _finished; })) return false;
    lock.unlock();
    if (_thread.joinable()) _thread.join();
    return true;
}

void SyncThread::run() {
    std::unique_lock lock(_mutex);
    while (!_stopping.load()) {
        _woken = false;
        lock.unlock();
        const auto wait = _syncer.drain(_stopping);
        lock.lock();
        if (wait) {
            // Backing off: new readings don't cut the wait short, only stop() does.
            _wake.wait_for(lock, *wait, [this] { return _stopping.load(); });
        } else {
            _wake.wait(lock, [this] { return _woken || _stopping.load(); });
        }
    }
    _finished = true;
    _done.notify_all();
}

}  // namespace sensorsys::agent
