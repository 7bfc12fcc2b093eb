// Small pieces both store implementations share. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Data/Session.h>
#include <sensorsys/common/sql_migrations.hpp>

#include "store/reading_store.hpp"

namespace sensorsys::agent::store_support {

// Checks that `reading.json` is a reading object (string device_id, reading_id, ts_utc,
// ts_local; object payload) and that its reading_id matches `reading.readingId` when that is
// set. Throws std::invalid_argument naming what is wrong: a malformed reading is a bug of the
// caller, not an unavailable store, and retrying it would never succeed.
void validateReading(const StoredReading& reading);

// "[1,2,3]" / "{1,2,3}": a list of ids bound as ONE parameter (one round trip per batch).
// Runs `query` (columns: id, reading_id, reading JSON; parameters: the id to start after, the
// limit) and returns its rows: both stores answer oldestUnsynced this way, with their own SQL.
std::vector<StoredReading> fetchReadings(Poco::Data::Session& session, const std::string& query,
                                         std::int64_t after_id, std::size_t limit);

// Runs `query` (columns: id, reading_id, boot_id or '', boottime_ns or -1, ts_utc text;
// parameters: the id to start after, the limit): both stores answer held() this way.
std::vector<HeldReading> fetchHeld(Poco::Data::Session& session, const std::string& query,
                                   std::int64_t after_id, std::size_t limit);

// Runs `update` (parameters: reading_id, ts_utc, ts_local, ts_quality - each '' for "keep" or
// "none" - and the row id) once per row, in one transaction.
void applyRelease(Poco::Data::Session& session, const std::string& update,
                  const std::vector<Release>& rows);

std::string idsAsJsonArray(const std::vector<std::int64_t>& ids);
std::string idsAsPgArray(const std::vector<std::int64_t>& ids);

}  // namespace sensorsys::agent::store_support
