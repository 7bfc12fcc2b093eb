// Readings in sensor_project.readings: idempotent inserts (reading_id), one statement per bulk
// batch, keyset pages, latest by index. Hot statements stay prepared per pooled connection.
// Writes and the live feed's queries run on the primary; range pages, latest and the device list
// on the read replica when there is one (ReadRouting). Thread-safe (each call leases its own
// connection).
#pragma once

#include <sensorsys/common/uuid_v7.hpp>

#include <utility>
#include "api_request.hpp"
#include "connection_pool.hpp"
#include "feed_cursor.hpp"
#include "read_routing.hpp"
#include "timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The columns of a StoredReading, in its field order, for a SELECT list (string literal).
#define SENSORSYS_READING_COLUMNS                                                           \
    "id::int8, reading_id::text, device_id, (extract(epoch FROM ts_utc) * 1000000)::int8, " \
    "(extract(epoch FROM ts_local) * 1000000)::int8, ts_local_offset, payload::text, "      \
    "COALESCE(ts_quality, '')"

// The ts_utc bounds of a ts_local range (SQL parameters, see utcBoundsOfLocal): a stored
// reading's ts_local is within kMaxLocalSkewMicros of its ts_utc, and partitions are by ts_utc.
// Given as parameters of their own, not as expressions of the ts_local ones: PostgreSQL prunes
// partitions while planning only by constants (timestamptz - interval is not immutable), and a
// plan of every partition cost 36-54 ms against 0.7 ms (bench/server/partitions.sh).
#define SENSORSYS_TS_UTC_BOUNDS(lo, hi) \
    "ts_utc >= " lo "::timestamptz AND ts_utc <= " hi "::timestamptz"

namespace sensorsys::server {

// A page of GET /readings (sensor_project.readings_page, V011): $1/$2 the ts_local range, $3/$4
// the cursor (ts_local, id) after which it starts, $5 the rows at most, $6/$7 the ts_utc bounds
// of [$3, $2] (utcBoundsOfLocal), $8 the device (kPageDeviceSql).
#define SENSORSYS_READINGS_PAGE(device)                                                     \
    "SELECT " SENSORSYS_READING_COLUMNS                                                     \
    " FROM sensor_project.readings_page($1::timestamptz, $2::timestamptz, $3::timestamptz," \
    " $4::int8, $5::int4, $6::timestamptz, $7::timestamptz, " device ")"
inline constexpr const char* kPageAllSql = SENSORSYS_READINGS_PAGE("NULL");
inline constexpr const char* kPageDeviceSql = SENSORSYS_READINGS_PAGE("$8::text");

// The ts_utc bounds (SQL text) that hold every reading whose ts_local is in [fromMicros,
// toMicros].
inline std::pair<std::string, std::string> utcBoundsOfLocal(std::int64_t fromMicros,
                                                            std::int64_t toMicros) {
    return {formatUtcForSql(fromMicros - kMaxLocalSkewMicros),
            formatUtcForSql(toMicros + kMaxLocalSkewMicros)};
}

struct StoredReading {
    std::int64_t id = 0;
    std::string readingId;
    std::string deviceId;
    std::int64_t tsUtcMicros = 0;
    std::int64_t tsLocalMicros = 0;
    int tsLocalOffset = 0;
    std::string tsQuality;  // "corrected" | "unsynced"; empty: NULL (a confirmed clock)
    std::string payloadJson;

    // {"id", "reading_id", "device_id", "ts_utc", "ts_local" (with the device's offset),
    //  "ts_quality" (only when set), "payload"}
    void appendJson(std::string& out) const;
    std::string json() const;
};

struct InsertOne {
    StoredReading reading;
    bool created = false;  // false: the reading_id was already stored
};

class ReadingStore {
  public:
    // partitionInterval: database.partition_interval, for a partition made when a reading
    // arrives for a time no partition covers yet.
    explicit ReadingStore(ReadRouting& routing, std::string partitionInterval = "1 month")
        : _pool(routing.primary()),
          _reads(routing),
          _partitionInterval(std::move(partitionInterval)) {}

    InsertOne insert(const ReadingInput& reading);
    // One statement (the batch as one jsonb parameter), one transaction. Returns rows inserted;
    // the rest were duplicates (in the table or within the batch).
    // inserted, when given, receives every reading the batch stored (with its id).
    std::int64_t insertBulk(const std::vector<ReadingInput>& readings,
                            std::vector<StoredReading>* inserted = nullptr);
    std::optional<StoredReading> latest(const std::optional<std::string>& deviceId);
    // Rows not yet delivered to a live client at cursor (of devices, or of all when empty), by
    // id.
    std::vector<StoredReading> after(const FeedCursor& cursor,
                                     const std::vector<std::string>& devices, int limit);
    // The newest reading of every device (GET /readings/latest's order).
    std::vector<StoredReading> latestPerDevice();
    // Rows of the range after the cursor (or from the start), ordered by (ts_local, id).
    std::vector<StoredReading> page(const RangeQuery& range, const std::optional<Cursor>& after,
                                    int limit);
    // JSON array of {"device_id", "first_seen", "last_seen", "readings"}.
    std::string devicesJson();
    // Round trip to PostgreSQL; throws DatabaseUnavailable.
    void ping();

    // The JSON array parameter of insertBulk; readings without reading_id get a UUIDv7.
    std::string bulkParameter(const std::vector<ReadingInput>& readings);

  private:
    std::int64_t storeBatch(std::string& param, std::vector<StoredReading>* inserted);

    ConnectionPool& _pool;
    ReadRouting& _reads;
    const std::string _partitionInterval;
    UuidV7Generator _uuids;
};

}  // namespace sensorsys::server
