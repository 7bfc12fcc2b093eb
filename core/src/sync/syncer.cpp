#include "sync/syncer.hpp"

#include <algorithm>
#include <set>

namespace sensorsys::agent {

Syncer::Syncer(ReadingStore& store, BulkClient& client, SyncSettings settings, Poco::Logger& logger)
    : _store(store),
      _client(client),
      _settings(settings),
      _logger(logger),
      _backoff(settings.backoffBase, settings.backoffMax) {}

SyncState Syncer::state() const {
    std::lock_guard lock(_mutex);
    return _state;
}

void Syncer::record(const std::string& result, bool success) {
    std::lock_guard lock(_mutex);
    const auto now = std::chrono::system_clock::now();
    _state.lastResult = result;
    _state.lastAttempt = now;
    if (success) _state.lastSuccess = now;
}

std::chrono::milliseconds Syncer::failed(const std::string& what, bool loud) {
    const auto wait = _backoff.next();
    const std::string text = what + "; retrying in " + std::to_string(wait.count()) + " ms";
    loud ? _logger.error(text) : _logger.warning(text);
    record(what, false);
    return wait;
}

std::optional<std::chrono::milliseconds> Syncer::drain(const std::atomic<bool>& stop) {
    // Pipelined (see FlightWindow): up to `inFlight` batches are on the wire at once, the next
    // one is read from the store and encoded meanwhile, and the last batch the server
    // confirmed in full is marked synced on another thread (that commit's fsync is the slow
    // part on an SD card). A mark is settled before anything else touches a batch's fate.
    // Anything but a clean success stops the pipeline: the requests still in flight land,
    // every answer is dealt with in order, synchronously, and reading starts again from the
    // oldest unsynced reading - a batch whose answer was lost is simply sent again, and the
    // server counts it as duplicates.
    // The body builders' buffers (~0.5 MB each) pay for themselves batch after batch; between
    // drains (one reading a minute) they are not worth keeping. Freed last, once every flight
    // below has landed.
    if (_prepare) {
        try {
            _prepare();
        } catch (const std::exception& e) {
            _logger.warning(std::string("sync: cannot date held readings: ") + e.what());
        }
    }
    struct ReleaseBuilders {
        IdlePool<BodyBuilder>& builders;
        ~ReleaseBuilders() { builders.clear(); }
    } release_builders{_builders};
    FlightWindow window(_store, _settings.batchSize, _settings.inFlight,
                        [this](std::span<const StoredReading> batch) { return post(batch); });
    for (;;) {
        try {
            window.fill(stop);
        } catch (const std::exception& e) {
            if (auto wait = settle(window)) return wait;
            return failed(std::string("sync: cannot read the store: ") + e.what(), false);
        }
        if (window.empty()) return settle(window);

        const BulkAnswer answer = window.frontAnswer();
        if (answer.kind == AnswerKind::Accepted && answer.rejected.empty()) {
            if (auto wait = confirm(window, answer, stop)) return wait;
            continue;
        }
        if (auto wait = handleInOrder(window, answer)) return wait;
        window.restart();
    }
}

std::optional<std::chrono::milliseconds> Syncer::settle(FlightWindow& window) {
    std::size_t marked = 0;
    try {
        marked = window.settle();
    } catch (const std::exception& e) {
        // The server has those readings; they stay unsynced and are resent later, where the
        // server counts them as duplicates.
        return failed(std::string("sync: cannot update the store: ") + e.what(), false);
    }
    std::lock_guard lock(_mutex);
    _state.synced += static_cast<std::int64_t>(marked);
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> Syncer::confirm(FlightWindow& window,
                                                         const BulkAnswer& answer,
                                                         const std::atomic<bool>& stop) {
    const auto batch = window.frontBatch();
    std::vector<std::int64_t> ids;
    ids.reserve(batch.size());
    for (const auto& reading : batch) ids.push_back(reading.id);
    _backoff.reset();
    record("ok: " + answer.message, true);
    _logger.debug("sync: " + std::to_string(batch.size()) + " readings: " + answer.message);
    window.popFront();
    // The next batch goes out before the mark takes the store (and its fsync).
    try {
        window.fill(stop);
    } catch (const std::exception&) {
        // Reported by the next fill in drain().
    }
    if (auto wait = settle(window)) return wait;  // (the flights still out land first)
    window.startMark(std::move(ids));
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> Syncer::handleInOrder(FlightWindow& window,
                                                               const BulkAnswer& answer) {
    if (auto wait = settle(window)) return wait;  // (the flights still out land first)
    window.land();
    auto wait = handle(window.frontBatch(), answer);
    window.popFront();
    for (; !window.empty(); window.popFront()) {
        const BulkAnswer later = window.frontAnswer();
        // Only what the server took is recorded; the rest is read again.
        if (later.kind != AnswerKind::Accepted) continue;
        if (auto failure = handle(window.frontBatch(), later); !wait) {
            wait = failure;
        }
    }
    return wait;
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
    return _settings.gzip && !state().plainBodies;
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
            _state.plainBodies = true;
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
            case AnswerKind::Accepted:
                accept(batch, answer);
                return std::nullopt;
            case AnswerKind::RequestRefused:
                return bisect(batch, answer);
            case AnswerKind::ConfigProblem:
                return failed("sync: " + answer.message +
                                  " — check sync.url and sync.token; nothing is dropped",
                              true);
            case AnswerKind::RetryLater:
                if (answer.retryAfter) {
                    const auto wait = std::min<std::chrono::milliseconds>(*answer.retryAfter,
                                                                          _settings.backoffMax);
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

void Syncer::accept(std::span<const StoredReading> batch, const BulkAnswer& answer) {
    std::vector<std::pair<std::int64_t, std::string>> refused;
    std::set<std::size_t> refused_index;
    for (const auto& [index, reason] : answer.rejected) {
        refused.emplace_back(batch[index].id, reason);
        refused_index.insert(index);
        _logger.warning("sync: server rejected reading " + batch[index].readingId + " (" + reason +
                        "); quarantined, not resent");
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
        if (!refused.empty()) _state.lastQuarantineReason = refused.back().second;
    }
    record("ok: " + answer.message, true);
    _logger.debug("sync: " + std::to_string(batch.size()) + " readings: " + answer.message);
}

std::optional<std::chrono::milliseconds> Syncer::bisect(std::span<const StoredReading> batch,
                                                        const BulkAnswer& answer) {
    if (batch.size() == 1) {
        _logger.warning("sync: server refused reading " + batch[0].readingId + " on its own (" +
                        answer.message + "); quarantined, not resent");
        _store.quarantine({{batch[0].id, answer.message}});
        std::lock_guard lock(_mutex);
        ++_state.quarantined;
        _state.lastQuarantineReason = answer.message;
        return std::nullopt;
    }
    // Find the bad reading(s) by halving; the good halves are stored on the way.
    const std::size_t half = batch.size() / 2;
    if (auto wait = deliver(batch.first(half))) return wait;
    return deliver(batch.subspan(half));
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
