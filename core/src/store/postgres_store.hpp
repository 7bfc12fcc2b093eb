// The store in PostgreSQL (store.connector=postgresql), in the seed agent's layout:
// sensor_project.readings (id SERIAL, device_id, ts_utc, ts_local TIMESTAMPTZ, payload JSONB,
// is_synced) plus reading_id, ts_local_offset and quarantine columns, added in place to a seed
// table by the migrations. Sessions run in UTC with synchronous_commit on. When PostgreSQL goes
// away, calls throw StoreUnavailable and the next call reconnects by itself.
// Thread-safety: every method may be called from any thread; one connection behind a mutex.
#pragma once

#include <Poco/Data/Session.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/reading_store.hpp"

namespace sensorsys::agent {

class PostgresStore final : public ReadingStore {
  public:
    // The query oldestUnsynced() runs (its plan is checked by the tests).
    static const char* const kOldestUnsyncedQuery;

    // `connection` is a libpq key=value string. Connects and migrates at once if it can; if
    // not, logs it and every method retries the connection (throwing StoreUnavailable meanwhile).
    explicit PostgresStore(std::string connection);
    ~PostgresStore() override;

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
    // The server's data directory when PostgreSQL runs on this machine (host empty, a socket
    // folder, localhost or a loopback address) and the role may read data_directory; else
    // empty: a database on another host is not ours to measure or clean for disk space.
    std::string filesystemPath() const override;

  private:
    Poco::Data::Session& connectLocked();
    template <class F>
    auto withSession(const char* what, bool retry, F&& f);

    const std::string _connection;  // as given, plus timeouts it did not set
    const std::string _describe;    // host/port/dbname for messages (never the password)
    const bool _local;
    mutable std::mutex _mutex;
    std::unique_ptr<Poco::Data::Session> _session;  // null until (re)connected
    std::optional<std::string> _dataDirectory;
};

}  // namespace sensorsys::agent
