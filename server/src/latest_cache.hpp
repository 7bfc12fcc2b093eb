// The newest reading of each device (and of all), kept in memory for GET /readings/latest with
// the route's definition: newest by ts_local, then by id; an older reading arriving late changes
// nothing. Fed by this instance's own commits and by the change feed; it answers only while
// on: from a full load (made once the feed listens and has caught up) until the feed's
// connection is lost. Off, callers read the database. Thread-safe.
#pragma once

#include "reading_store.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sensorsys::server {

class LatestCache {
  public:
    // The reading's JSON as GET /readings/latest answers it; null when there is none.
    using Answer = std::shared_ptr<const std::string>;

    bool on() const;
    // Answers from memory: false when the cache is off (ask the database).
    bool lookup(const std::optional<std::string>& deviceId, Answer& answer) const;
    // A committed reading; kept if newer than the device's (also while off: a load merges).
    void offer(const StoredReading& reading);
    // A device's newest reading, as snapshot() lists it.
    struct Newest {
        std::string deviceId;
        std::int64_t id = 0;
        Answer json;
    };
    // Every device's newest reading, by id, while on (the rows a load would give, and any newer
    // ones offered since); nothing when off (ask the database).
    std::optional<std::vector<Newest>> snapshot() const;
    // Merges a full load (the newest reading of every device) and turns the cache on.
    void load(const std::vector<StoredReading>& newestPerDevice);
    // Forgets everything and answers nothing until the next load.
    void turnOff();

  private:
    struct Entry {
        std::int64_t tsLocalMicros = 0;
        std::int64_t id = 0;
        Answer json;
        bool newerThan(const Entry& other) const;
    };
    void merge(const StoredReading& reading);

    mutable std::shared_mutex _mutex;
    bool _on = false;
    std::unordered_map<std::string, Entry> _byDevice;
    Entry _newest;
};

}  // namespace sensorsys::server
