// The default store: one SQLite file (store.path) in WAL mode with synchronous=FULL, so a
// reading is on disk before add() returns (kill -9 and power loss), with incremental
// auto_vacuum so retention's deletions give space back to the filesystem.
// Thread-safety: every method may be called from any thread; one connection behind a mutex.
#pragma once

#include <Poco/Data/Session.h>

#include <memory>
#include <mutex>
#include <string>

#include "store/reading_store.hpp"

namespace sensorsys::agent {

class SqliteStore final : public ReadingStore {
  public:
    // The query oldestUnsynced() runs (its plan is checked by the tests): the partial index
    // holds only the backlog, so the cost is one batch of index entries whatever the number of
    // synced rows.
    static const char* const kOldestUnsyncedQuery;

    // Opens (creating the file and its folder if needed) and migrates. If that fails the error
    // is logged and every method throws StoreUnavailable until the file can be opened.
    explicit SqliteStore(std::string path);
    ~SqliteStore() override;

    void add(const StoredReading& reading) override;
    void add(const StoredReading& reading, const ReadingClock& clock) override;
    using ReadingStore::oldestUnsynced;
    std::vector<StoredReading> oldestUnsynced(std::size_t limit, std::int64_t after_id) override;
    std::vector<HeldReading> held(std::size_t limit, std::int64_t after_id) override;
    void release(const std::vector<Release>& rows) override;
    void markSynced(const std::vector<std::int64_t>& ids) override;
    void quarantine(const std::vector<std::pair<std::int64_t, std::string>>& rows) override;
    StoreStats stats() override;
    RetentionResult deleteStratified(std::int64_t synced_count,
                                     std::int64_t unsynced_count) override;
    void compact() override;
    std::string filesystemPath() const override { return _path; }

  private:
    Poco::Data::Session& openLocked();
    template <class F>
    auto withSession(const char* what, F&& f);
    std::int64_t fileBytes() const;

    const std::string _path;
    std::mutex _mutex;
    std::unique_ptr<Poco::Data::Session> _session;  // null until (re)opened
};

}  // namespace sensorsys::agent
