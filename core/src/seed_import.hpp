// sensorsys-agent --import-seed: copies the unsynced readings of a seed agent's local
// PostgreSQL (sensor_project.readings, is_synced = false) into this agent's store, so a Pi
// moving over loses nothing. Each reading gets a reading_id derived from the seed row, so a
// second import adds nothing twice; imported rows are then marked synced in the seed database
// so a seed agent still running does not send them as well. Runs once; no shared state.
#pragma once

#include <cstdint>
#include <string>

#include <Poco/Logger.h>

#include "store/reading_store.hpp"

namespace sensorsys::agent {

struct ImportResult {
    std::int64_t imported = 0;  // rows copied (already present ones included)
    std::string firstTsUtc;
    std::string lastTsUtc;
};

// `seed_connection` is a libpq key=value string. Throws std::runtime_error (naming the
// database and the cause) when the seed database cannot be read, or the PostgreSQL store
// module cannot be loaded.
ImportResult importSeed(const std::string& seed_connection, ReadingStore& store,
                        Poco::Logger& logger);
// The same, in the PostgreSQL store module (importSeed loads it and calls this).
ImportResult importSeedFromPostgres(const std::string& seed_connection, ReadingStore& store,
                                    Poco::Logger& logger);

// The reading_id a seed row gets: UUIDv7-shaped (its ts_utc milliseconds, so ids sort by
// time) with the rest taken from a hash of the row, the same every time.
std::string seedReadingId(std::int64_t ts_utc_millis, const std::string& row_identity);

}  // namespace sensorsys::agent
