#include "reading_store.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/Data/Statement.h>

#include "partition_maintenance.hpp"

#include <algorithm>
#include <tuple>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

void StoredReading::appendJson(std::string& out) const {
    out += "{\"id\": ";
    out += std::to_string(id);
    out += ", \"reading_id\": ";
    appendJsonString(out, readingId);
    out += ", \"device_id\": ";
    appendJsonString(out, deviceId);
    out += ", \"ts_utc\": \"";
    appendTimestamp(out, {tsUtcMicros, 0});
    out += "\", \"ts_local\": \"";
    appendTimestamp(out, {tsLocalMicros, tsLocalOffset});
    if (!tsQuality.empty()) {
        out += "\", \"ts_quality\": ";
        appendJsonString(out, tsQuality);
        out += ", \"payload\": ";
    } else {
        out += "\", \"payload\": ";
    }
    out += payloadJson;
    out += "}";
}

std::string StoredReading::json() const {
    std::string out;
    appendJson(out);
    return out;
}

namespace {

// Column vectors a row-returning statement extracts into; cleared before each execution
// (Poco appends to bound vectors).
struct RowColumns {
    std::vector<Poco::Int64> id;
    std::vector<std::string> readingId;
    std::vector<std::string> deviceId;
    std::vector<Poco::Int64> tsUtc;
    std::vector<Poco::Int64> tsLocal;
    std::vector<int> offset;
    std::vector<std::string> payload;
    std::vector<std::string> quality;

    void clear() {
        id.clear();
        readingId.clear();
        deviceId.clear();
        tsUtc.clear();
        tsLocal.clear();
        offset.clear();
        payload.clear();
        quality.clear();
    }
    void bind(Poco::Data::Statement& s) {
        s, into(id), into(readingId), into(deviceId), into(tsUtc), into(tsLocal), into(offset),
            into(payload), into(quality);
    }
    std::vector<StoredReading> rows() {
        std::vector<StoredReading> out(id.size());
        for (std::size_t i = 0; i < id.size(); ++i) {
            out[i].id = id[i];
            out[i].readingId = std::move(readingId[i]);
            out[i].deviceId = std::move(deviceId[i]);
            out[i].tsUtcMicros = tsUtc[i];
            out[i].tsLocalMicros = tsLocal[i];
            out[i].tsLocalOffset = offset[i];
            out[i].payloadJson = std::move(payload[i]);
            out[i].tsQuality = std::move(quality[i]);
        }
        return out;
    }
};

// Stores a batch (a jsonb array, see bulkParameter) and returns the count and every row stored.
// The reading-id ledger (V010) takes each id first; only the readings whose id was new are
// stored, the first of a batch when it repeats an id. Ids are drawn in the batch's order.
constexpr const char* kStoreBatch =
    "WITH src AS (SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (reading_id uuid,"
    " device_id text, ts_utc timestamptz, ts_local timestamptz, off integer, payload jsonb,"
    " q text)) WITH ORDINALITY AS r(reading_id, device_id, ts_utc, ts_local, off, payload, q, n)),"
    " led AS (INSERT INTO sensor_project.reading_ledger (reading_id, ts_utc)"
    " SELECT reading_id, ts_utc FROM (SELECT reading_id, ts_utc FROM src ORDER BY n) o"
    " ON CONFLICT (reading_id) DO NOTHING RETURNING reading_id, id),"
    " firsts AS (SELECT DISTINCT ON (reading_id) * FROM src ORDER BY reading_id, n),"
    " ins AS (INSERT INTO sensor_project.readings"
    " (id, reading_id, device_id, ts_utc, ts_local, ts_local_offset, payload, ts_quality)"
    " SELECT led.id, f.reading_id, f.device_id, f.ts_utc, f.ts_local, f.off, f.payload, f.q"
    " FROM led JOIN firsts f USING (reading_id) ORDER BY led.id RETURNING *)"
    // Every stored row: the live feed hands them on without fetching them again.
    " SELECT (SELECT count(*) FROM ins)::int8, " SENSORSYS_READING_COLUMNS " FROM ins";

// A device's newest reading by ts_local (then id): sensor_project.readings_latest (V011) finds
// it in one or two partitions, for one device (GET /readings/latest on a cache miss).
constexpr const char* kLatestOfDeviceSql =
    "SELECT " SENSORSYS_READING_COLUMNS " FROM sensor_project.readings_latest($1)";

// The same for every device in one statement (the cache load): the device's newest ts_utc, then
// the newest by ts_local among the 28 hours before it (see readings_latest). One plan for all
// devices costs less than a function call each (19 against 52 ms for 1,000 devices).
#define SENSORSYS_LATEST_OF_DEVICE(device)                                    \
    "SELECT " SENSORSYS_READING_COLUMNS                                       \
    " FROM sensor_project.stored_readings r WHERE r.device_id = " device      \
    " AND r.ts_utc >= (SELECT x.ts_utc FROM sensor_project.stored_readings x" \
    " WHERE x.device_id = " device                                            \
    " ORDER BY x.ts_utc DESC LIMIT 1) - interval '28 hours'"                  \
    " ORDER BY r.device_id DESC, r.ts_local DESC, r.id DESC LIMIT 1"

// The hot statements, compiled once per connection and re-executed with new bound values.
struct ReadingStatements : PreparedStatements {
    explicit ReadingStatements(Poco::Data::Session& session)
        : bulk(session),
          latestAll(session),
          latestDevice(session),
          pageAll(session),
          pageDevice(session) {
        bulk << kStoreBatch, use(bulkParam), into(bulkInserted);
        bulkCols.bind(bulk);
        latestAll << "SELECT " SENSORSYS_READING_COLUMNS
                     " FROM sensor_project.stored_readings"
                     " ORDER BY ts_local DESC, id DESC LIMIT 1";
        latestCols.bind(latestAll);
        latestDevice << kLatestOfDeviceSql, use(device);
        latestCols.bind(latestDevice);
        pageAll << kPageAllSql, use(start), use(end), use(afterTs), use(afterId), use(limit),
            use(utcLo), use(utcHi);
        pageCols.bind(pageAll);
        pageDevice << kPageDeviceSql, use(start), use(end), use(afterTs), use(afterId), use(limit),
            use(utcLo), use(utcHi), use(device);
        pageCols.bind(pageDevice);
    }

    std::string bulkParam;
    std::vector<Poco::Int64> bulkInserted;  // the count, on every row of bulkCols
    std::string device;
    std::string start, end, afterTs, utcLo, utcHi;
    Poco::Int64 afterId = 0;
    int limit = 0;
    RowColumns bulkCols;
    RowColumns latestCols;
    RowColumns pageCols;
    Poco::Data::Statement bulk;
    Poco::Data::Statement latestAll;
    Poco::Data::Statement latestDevice;
    Poco::Data::Statement pageAll;
    Poco::Data::Statement pageDevice;
};

constexpr std::size_t kHugeBytes = 1024 * 1024;

// After megabytes went through a connection it is closed rather than reused (Connection::retire).
void retireIfHuge(Connection& c, const std::vector<StoredReading>& rows) {
    std::size_t bytes = 0;
    for (const auto& row : rows) bytes += row.payloadJson.size();
    if (bytes > kHugeBytes) c.retire();
}

}  // namespace

std::string ReadingStore::bulkParameter(const std::vector<ReadingInput>& readings) {
    std::string out;
    std::size_t estimate = 2;
    for (const auto& r : readings) estimate += r.payloadJson.size() + r.deviceId.size() + 160;
    out.reserve(estimate);
    out += '[';
    bool first = true;
    for (const auto& r : readings) {
        if (!first) out += ',';
        first = false;
        out += "{\"reading_id\":";
        out += '"';
        out += r.readingId ? *r.readingId : _uuids.next();
        out += '"';
        out += ",\"device_id\":";
        appendJsonString(out, r.deviceId);
        out += ",\"ts_utc\":\"";
        out += formatUtcForSql(r.tsUtc.epochMicros);
        out += "\",\"ts_local\":\"";
        out += formatUtcForSql(r.tsLocal.epochMicros);
        out += "\",\"off\":";
        out += std::to_string(r.tsLocal.offsetSeconds);
        if (r.tsQuality) {
            out += ",\"q\":";
            appendJsonString(out, *r.tsQuality);
        }
        out += ",\"payload\":";
        out += r.payloadJson;
        out += '}';
    }
    out += ']';
    return out;
}

InsertOne ReadingStore::insert(const ReadingInput& reading) {
    ReadingInput withId = reading;
    if (!withId.readingId) withId.readingId = _uuids.next();
    std::vector<StoredReading> stored;
    insertBulk({withId}, &stored);
    if (!stored.empty()) return InsertOne{std::move(stored.front()), true};
    // Stored before (possibly by a concurrent request, committed once the ledger let this one
    // through): the ledger says where.
    return _pool.run([&](Connection& c) {
        std::string readingId = *withId.readingId;
        RowColumns cols;
        Poco::Data::Statement s(c.session());
        s << "SELECT " SENSORSYS_READING_COLUMNS
             " FROM sensor_project.stored_readings WHERE reading_id = $1::uuid"
             " AND ts_utc = (SELECT ts_utc FROM sensor_project.reading_ledger"
             " WHERE reading_id = $1::uuid)",
            use(readingId);
        cols.bind(s);
        s.execute();
        auto rows = cols.rows();
        if (rows.empty()) throw std::runtime_error("the stored reading could not be read back");
        return InsertOne{std::move(rows.front()), false};
    });
}

std::int64_t ReadingStore::storeBatch(std::string& param, std::vector<StoredReading>* inserted) {
    return _pool.run([&](Connection& c) {
        if (param.size() > kHugeBytes) c.retire();
        auto& st = c.statements<ReadingStatements>();
        st.bulkParam.swap(param);
        st.bulkInserted.clear();
        st.bulkCols.clear();
        try {
            executePrepared(st.bulk);
        } catch (...) {
            st.bulkParam.swap(param);  // kept for the retry
            throw;
        }
        st.bulkParam.clear();
        st.bulkParam.shrink_to_fit();
        if (inserted) *inserted = st.bulkCols.rows();
        return st.bulkInserted.empty() ? std::int64_t{0}
                                       : static_cast<std::int64_t>(st.bulkInserted.front());
    });
}

std::int64_t ReadingStore::insertBulk(const std::vector<ReadingInput>& readings,
                                      std::vector<StoredReading>* inserted) {
    if (readings.empty()) return 0;
    std::string param = bulkParameter(readings);
    try {
        return storeBatch(param, inserted);
    } catch (const Poco::Exception& e) {
        if (e.displayText().find("no partition of relation") == std::string::npos) throw;
        if (_partitionInterval == kExternalPartitions) {
            // Answered 503: the agent keeps the readings and sends them again later.
            throw DatabaseUnavailable(
                "no partition of sensor_project.readings holds a reading's "
                "ts_utc, and database.partition_interval = external leaves "
                "making it to the partition manager");
        }
    }
    // A time no partition covers yet (the maintenance worker makes them ahead of the clock;
    // a backlog from long ago, or a first start, needs older ones): made now, then stored once
    // more. Making a partition does not block reads or other inserts.
    const auto span = std::minmax_element(
        readings.begin(), readings.end(),
        [](const auto& a, const auto& b) { return a.tsUtc.epochMicros < b.tsUtc.epochMicros; });
    const std::int64_t from = span.first->tsUtc.epochMicros;
    const std::int64_t until = span.second->tsUtc.epochMicros + 1;
    _pool.run([&](Connection& c) {
        return PartitionMaintenance::makePartitions(c.session(), _partitionInterval, from, until);
    });
    return storeBatch(param, inserted);
}

std::vector<StoredReading> ReadingStore::after(const FeedCursor& cursor,
                                               const std::vector<std::string>& devices, int limit) {
    return _pool.run([&](Connection& c) {
        RowColumns cols;
        Poco::Int64 settled = cursor.settled();
        std::string delivered = cursor.multirange();
        std::string wanted = "[";
        for (const auto& d : devices) {
            if (wanted.size() > 1) wanted += ',';
            appendJsonString(wanted, d);
        }
        wanted += ']';
        Poco::Data::Statement s(c.session());
        s << "SELECT " SENSORSYS_READING_COLUMNS
             " FROM sensor_project.readings"
             " WHERE id > $1 AND NOT ($2::int8multirange @> id::int8)"
             " AND ($3 = '[]' OR device_id IN (SELECT jsonb_array_elements_text($3::jsonb)))"
             " ORDER BY readings.id LIMIT $4",
            use(settled), use(delivered), use(wanted), use(limit);
        cols.bind(s);
        s.execute();
        return cols.rows();
    });
}

std::vector<StoredReading> ReadingStore::latestPerDevice() {
    return _pool.run([&](Connection& c) {
        RowColumns cols;
        Poco::Data::Statement s(c.session());
        // The devices from sensor_project.devices (V011), each one's newest from its partitions.
        s << "SELECT x.* FROM sensor_project.devices d CROSS JOIN LATERAL "
             "(" SENSORSYS_LATEST_OF_DEVICE("d.device_id") ") x ORDER BY x.device_id";
        cols.bind(s);
        s.execute();
        return cols.rows();
    });
}

std::optional<StoredReading> ReadingStore::latest(const std::optional<std::string>& deviceId) {
    return _reads.run([&](Connection& c) -> std::optional<StoredReading> {
        auto& st = c.statements<ReadingStatements>();
        st.latestCols.clear();
        if (deviceId) {
            st.device = *deviceId;
            executePrepared(st.latestDevice);
        } else {
            executePrepared(st.latestAll);
        }
        auto rows = st.latestCols.rows();
        retireIfHuge(c, rows);
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    });
}

std::vector<StoredReading> ReadingStore::page(const RangeQuery& range,
                                              const std::optional<Cursor>& after, int limit) {
    return _reads.run([&](Connection& c) {
        auto& st = c.statements<ReadingStatements>();
        st.pageCols.clear();
        st.start = formatUtcForSql(range.start.epochMicros);
        st.end = formatUtcForSql(range.end.epochMicros);
        const std::int64_t from = after ? after->tsLocalMicros : range.start.epochMicros;
        st.afterTs = formatUtcForSql(from);
        std::tie(st.utcLo, st.utcHi) = utcBoundsOfLocal(from, range.end.epochMicros);
        st.afterId = after ? after->id : -1;
        st.limit = limit;
        if (range.deviceId) {
            st.device = *range.deviceId;
            executePrepared(st.pageDevice);
        } else {
            executePrepared(st.pageAll);
        }
        auto rows = st.pageCols.rows();
        retireIfHuge(c, rows);
        return rows;
    });
}

std::string ReadingStore::devicesJson() {
    return _reads.run([&](Connection& c) {
        std::string json;
        Poco::Data::Statement s(c.session());
        s << "SELECT COALESCE(json_agg(json_build_object('device_id', device_id,"
             " 'first_seen', first_seen, 'last_seen', last_seen, 'readings', n)"
             " ORDER BY device_id), '[]')::text FROM (SELECT device_id, min(ts_utc) AS first_seen,"
             " max(ts_utc) AS last_seen, count(*) AS n FROM sensor_project.stored_readings"
             " GROUP BY device_id) d",
            into(json);
        s.execute();
        return json;
    });
}

void ReadingStore::ping() {
    _pool.run([&](Connection& c) {
        int one = 0;
        c.session() << "SELECT 1", into(one), now;
        if (one != 1) throw DatabaseUnavailable("SELECT 1 did not answer 1");
        return 0;
    });
}

}  // namespace sensorsys::server
