#include "series_store.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/Data/Statement.h>

#include <charconv>
#include <map>
#include <string_view>
#include <utility>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {

constexpr std::int64_t kMinute = 60LL * 1000000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

enum class Level { Minute, Hour, Day };

std::int64_t floorTo(std::int64_t t, std::int64_t unit) {
    const std::int64_t q = t / unit;
    return (q * unit > t ? q - 1 : q) * unit;
}

std::int64_t ceilTo(std::int64_t t, std::int64_t unit) {
    const std::int64_t f = floorTo(t, unit);
    return f == t ? t : f + unit;
}

// The sub-ranges each level covers: [m0, m1) from minute rollups or finer, [h0, h1) from hour
// rollups or finer, [d0, d1) from day rollups; empty ranges are [x, x).
struct Cover {
    std::int64_t m0, m1, h0, h1, d0, d1;
};

Cover coverOf(std::int64_t start, std::int64_t end, Level top) {
    Cover c{};
    c.m0 = ceilTo(start, kMinute);
    c.m1 = floorTo(end, kMinute);
    if (c.m0 >= c.m1) c.m0 = c.m1 = end;
    c.h0 = ceilTo(c.m0, kHour);
    c.h1 = floorTo(c.m1, kHour);
    if (top == Level::Minute || c.h0 >= c.h1) c.h0 = c.h1 = c.m1;
    c.d0 = ceilTo(c.h0, kDay);
    c.d1 = floorTo(c.h1, kDay);
    if (top != Level::Day || c.d0 >= c.d1) c.d0 = c.d1 = c.h1;
    return c;
}

bool utcLike(const std::string& tz) {
    return tz == "UTC" || tz == "Etc/UTC" || tz == "GMT" || tz == "Etc/GMT";
}

// The output bucket of an instant t, per step (fixed SQL text; tz is parameter $11).
std::string bucketExpression(const SeriesStep& step) {
    if (step.name == "1d") return "date_trunc('day', t, (SELECT tz FROM prm))";
    if (step.name == "6h") {
        return "timezone((SELECT tz FROM prm), date_bin(interval '6 hours', "
               "timezone((SELECT tz FROM prm), t), TIMESTAMP '2000-01-01'))";
    }
    return "date_bin(interval '" + std::to_string(step.seconds) +
           " seconds', t, TIMESTAMPTZ '2000-01-01Z')";
}

// A bucket of the given unit is clean for device d when no dirty minute of d falls in it and
// the one-time backfill has covered it.
std::string clean(const char* device, const std::string& bucket, const char* unit,
                  const char* dirtyTable) {
    return std::string("(NOT EXISTS (SELECT 1 FROM ") + dirtyTable +
           " x WHERE x.device_id = " + device + " AND x.bucket = " + bucket + ") AND NOT (" +
           bucket + " < bf.u AND " + bucket + " + interval '" + unit + "' > bf.f))";
}

// The ranges a rollup level is read over, per device: [lo, lo2) and [hi2, hi) around the next
// level's span, plus the units of the next level that are dirty (read at this level instead).
std::string levelRanges(const char* name, const char* lo, const char* lo2, const char* hi2,
                        const char* hi, const char* dirtyUpper, const char* upperUnit) {
    return std::string(name) + " AS (SELECT d AS device_id, prm." + lo + " AS lo, prm." + lo2 +
           " AS hi FROM prm, unnest(prm.devs) d UNION ALL SELECT d, prm." + hi2 + ", prm." + hi +
           " FROM prm, unnest(prm.devs) d UNION ALL SELECT x.device_id, x.bucket, x.bucket + "
           "interval '" +
           upperUnit + "' FROM " + dirtyUpper + " x, prm WHERE x.bucket >= prm." + lo2 +
           " AND x.bucket < prm." + hi2 + ")";
}

// Every range is read on its own by the table's index (LATERAL ... OFFSET 0 keeps the
// subquery from being flattened): the planner cannot see how few and how short the ranges in
// the CTEs are, and joined them to a whole year of rows instead (a seq scan of 5 M readings and
// 400 k rollup pages for a series that needed 365 day rows: 3.6 s instead of milliseconds).
std::string rollupSelect(const char* table, const char* ranges, const std::string& condition) {
    return std::string(
               "SELECT m.device_id, m.metric, m.bucket, m.count, m.sum, m.min, m.max, "
               "m.first, m.first_ts, m.last, m.last_ts, 0::int8 FROM ") +
           ranges + " g CROSS JOIN LATERAL (SELECT * FROM sensor_project." + table +
           " x WHERE x.device_id = g.device_id AND x.metric = ANY((SELECT mets FROM prm)::text[])"
           " AND x.bucket >= g.lo AND x.bucket < g.hi OFFSET 0) m, bf WHERE " +
           condition;
}

std::string sourcesSql() {
    return "rr AS (SELECT d AS device_id, prm.s AS lo, prm.m0 AS hi FROM prm, unnest(prm.devs) d"
           " UNION ALL SELECT d, prm.m1, prm.e FROM prm, unnest(prm.devs) d"
           " UNION ALL SELECT dm.device_id, dm.bucket, dm.bucket + interval '1 minute'"
           " FROM dm, bf WHERE NOT (dm.bucket >= bf.f AND dm.bucket < bf.u)"
           " UNION ALL SELECT d, greatest(bf.f, prm.m0), least(bf.u, prm.m1)"
           " FROM prm, bf, unnest(prm.devs) d WHERE bf.f < prm.m1 AND bf.u > prm.m0), " +
           levelRanges("mr", "m0", "h0", "h1", "m1", "dh", "1 hour") + ", " +
           levelRanges("hr", "h0", "d0", "d1", "h1", "dd", "1 day") +
           ", src AS (SELECT r.device_id, p.metric, r.ts_utc AS t, 1::int8 AS count, p.value AS "
           "sum, p.value AS min, p.value AS max, p.value AS first, r.ts_utc AS first_ts, p.value "
           "AS last, r.ts_utc AS last_ts, r.id::int8 AS id"
           " FROM rr CROSS JOIN LATERAL (SELECT x.id, x.device_id, x.ts_utc, x.payload"
           " FROM sensor_project.stored_readings x WHERE x.device_id = rr.device_id"
           " AND x.ts_utc >= rr.lo AND x.ts_utc < rr.hi"
           " AND x.ts_quality IS DISTINCT FROM 'unsynced' OFFSET 0) r"
           " CROSS JOIN LATERAL sensor_project.numeric_paths(r.payload) p, prm"
           " WHERE p.metric = ANY(prm.mets)"
           " UNION ALL " +
           rollupSelect("rollup_1m", "mr", clean("m.device_id", "m.bucket", "1 minute", "dm")) +
           " UNION ALL " +
           rollupSelect("rollup_1h", "hr", clean("m.device_id", "m.bucket", "1 hour", "dh")) +
           " UNION ALL " +
           rollupSelect("rollup_1d",
                        "(SELECT d AS device_id, prm.d0 AS lo, prm.d1 AS hi FROM prm,"
                        " unnest(prm.devs) d)",
                        clean("m.device_id", "m.bucket", "1 day", "dd")) +
           ")";
}

std::string seriesSql(const SeriesStep& step) {
    return "WITH prm AS MATERIALIZED (SELECT array(SELECT jsonb_array_elements_text($1::jsonb)) "
           "AS devs, array(SELECT jsonb_array_elements_text($2::jsonb)) AS mets,"
           " $3::timestamptz AS s, $4::timestamptz AS e, $5::timestamptz AS m0, "
           "$6::timestamptz AS m1, $7::timestamptz AS h0, $8::timestamptz AS h1, "
           "$9::timestamptz AS d0, $10::timestamptz AS d1, $11::text AS tz),"
           " bf AS MATERIALIZED (SELECT COALESCE(max(next_from), 'infinity') AS f,"
           " COALESCE(max(until_ts), '-infinity') AS u FROM sensor_project.rollup_backfill"
           " WHERE next_from < until_ts),"
           " dm AS MATERIALIZED (SELECT DISTINCT d.device_id, d.bucket FROM "
           "sensor_project.rollup_dirty d,"
           " prm WHERE d.device_id = ANY(prm.devs) AND d.bucket >= prm.m0 AND d.bucket < prm.m1),"
           " dh AS MATERIALIZED (SELECT DISTINCT device_id, date_bin('1 hour', bucket, "
           "TIMESTAMPTZ '2000-01-01Z') AS bucket FROM dm),"
           " dd AS MATERIALIZED (SELECT DISTINCT device_id, date_bin('1 day', bucket, "
           "TIMESTAMPTZ '2000-01-01Z') AS bucket FROM dm), " +
           sourcesSql() +
           " SELECT device_id, metric, (extract(epoch FROM b) * 1000000)::int8,"
           " extract(epoch FROM timezone((SELECT tz FROM prm), b) - timezone('UTC', b))::int4,"
           " sum(count)::int8, sum(sum), min(min), max(max),"
           // The value at the smallest (first_ts, id) and at the largest (last_ts, id): an
           // array compares element by element, so min/max over [microseconds, id, value]
           // pick them without the sort per bucket array_agg(... ORDER BY) does (both are
           // exact in float8 below 2^53; ~10 % of a 10,800-bucket series).
           " (min(ARRAY[(extract(epoch FROM first_ts) * 1000000)::float8, id::float8, first]))[3],"
           " (max(ARRAY[(extract(epoch FROM last_ts) * 1000000)::float8, id::float8, last]))[3]"
           " FROM (SELECT src.*, " +
           bucketExpression(step) +
           " AS b FROM src) x GROUP BY device_id, metric, b ORDER BY device_id, metric, b";
}

void appendNumber(std::string& out, double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string jsonList(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        appendJsonString(out, item);
    }
    return out + "]";
}

struct PointColumns {
    std::vector<std::string> device, metric;
    std::vector<Poco::Int64> t;
    std::vector<int> offset;
    std::vector<Poco::Int64> count;
    std::vector<double> sum, min, max, first, last;

    void appendPoint(std::string& out, std::size_t i) const {
        out += out.back() == '[' ? "{\"t\": \"" : ", {\"t\": \"";
        appendTimestamp(out, {t[i], offset[i]});
        out += "\", \"count\": " + std::to_string(count[i]) + ", \"min\": ";
        appendNumber(out, min[i]);
        out += ", \"max\": ";
        appendNumber(out, max[i]);
        out += ", \"avg\": ";
        appendNumber(out, sum[i] / static_cast<double>(count[i]));
        out += ", \"first\": ";
        appendNumber(out, first[i]);
        out += ", \"last\": ";
        appendNumber(out, last[i]);
        out += '}';
    }
};

}  // namespace

bool SeriesStore::zoneKnown(Connection& connection, const std::string& tz) {
    {
        std::lock_guard lock(_zonesMutex);
        if (_knownZones.contains(tz)) return true;
    }
    std::string name = tz;
    int known = 0;
    connection.session() << "SELECT count(*)::int4 FROM pg_timezone_names WHERE name = $1",
        use(name), into(known), now;
    if (known == 0) return false;
    std::lock_guard lock(_zonesMutex);
    _knownZones.insert(tz);
    return true;
}

namespace {

// The coarsest rollup level whose buckets each fall into one output bucket.
Level topLevel(Connection& connection, const SeriesQuery& q) {
    if (q.step.kind == SeriesStepKind::Elapsed)
        return q.step.seconds >= 3600 ? Level::Hour : Level::Minute;
    if (q.step.name == "1d" && utcLike(q.tz)) return Level::Day;
    // Hour rollups nest in the zone's 6 h and day buckets while its offset is whole hours;
    // sampled weekly (offset changes last months), plus both ends.
    std::string tz = q.tz, s = formatUtcForSql(q.start.epochMicros),
                e = formatUtcForSql(q.end.epochMicros);
    bool wholeHours = false;
    connection.session()
        << "SELECT COALESCE(bool_and(extract(epoch FROM timezone($1, t) - timezone('UTC', t))::int8"
           " % 3600 = 0), true) FROM (SELECT generate_series($2::timestamptz, $3::timestamptz,"
           " interval '7 days') AS t UNION ALL SELECT $3::timestamptz) x",
        use(tz), use(s), use(e), into(wholeHours), now;
    return wholeHours ? Level::Hour : Level::Minute;
}

}  // namespace

namespace {

// The series' points from PostgreSQL into cols.
void fetchPoints(Connection& c, const SeriesQuery& q, PointColumns& cols) {
    cols = PointColumns{};  // a replica that broke mid-answer may have filled some
    const Cover cover = coverOf(q.start.epochMicros, q.end.epochMicros, topLevel(c, q));
    std::string devs = jsonList(q.deviceIds), mets = jsonList(q.metrics), tz = q.tz;
    std::string bounds[8] = {formatUtcForSql(q.start.epochMicros),
                             formatUtcForSql(q.end.epochMicros),
                             formatUtcForSql(cover.m0),
                             formatUtcForSql(cover.m1),
                             formatUtcForSql(cover.h0),
                             formatUtcForSql(cover.h1),
                             formatUtcForSql(cover.d0),
                             formatUtcForSql(cover.d1)};
    Poco::Data::Statement s(c.session());
    s << seriesSql(q.step), use(devs), use(mets), use(bounds[0]), use(bounds[1]), use(bounds[2]),
        use(bounds[3]), use(bounds[4]), use(bounds[5]), use(bounds[6]), use(bounds[7]), use(tz),
        into(cols.device), into(cols.metric), into(cols.t), into(cols.offset), into(cols.count),
        into(cols.sum), into(cols.min), into(cols.max), into(cols.first), into(cols.last);
    s.execute();
}

}  // namespace

std::string SeriesStore::seriesJson(const SeriesQuery& q) {
    PointColumns cols;
    const bool zoneOk = _reads.run([&](Connection& c) {
        if (!zoneKnown(c, q.tz)) return false;
        fetchPoints(c, q, cols);
        return true;
    });
    if (!zoneOk) throw UnknownTimeZone("not a time zone PostgreSQL knows");
    std::map<std::pair<std::string, std::string>, std::string> points;
    for (std::size_t i = 0; i < cols.t.size(); ++i) {
        auto& out = points[{cols.device[i], cols.metric[i]}];
        if (out.empty()) {  // a series' rows come together (ORDER BY): its size is known
            std::size_t n = i;
            while (n < cols.t.size() && cols.device[n] == cols.device[i] &&
                   cols.metric[n] == cols.metric[i])
                ++n;
            out.reserve((n - i) * 160 + 1);
            out = "[";
        }
        cols.appendPoint(out, i);
    }
    std::size_t size = 64;
    for (const auto& [key, text] : points) size += text.size() + 96;
    std::string json;
    json.reserve(size);  // a 10,800-point answer is 1.4 MB: built in place, copied never
    json += "{\"step\": \"" + std::string(q.step.name) + "\", \"tz\": ";
    appendJsonString(json, q.tz);
    json += ", \"series\": [";
    bool firstSeries = true;
    for (const auto& device : q.deviceIds) {
        for (const auto& metric : q.metrics) {
            json += firstSeries ? "{\"device_id\": " : ", {\"device_id\": ";
            firstSeries = false;
            appendJsonString(json, device);
            json += ", \"metric\": ";
            appendJsonString(json, metric);
            auto it = points.find({device, metric});
            json += ", \"points\": ";
            json += it == points.end() ? std::string_view("[") : std::string_view(it->second);
            json += "]}";
        }
    }
    json += "]}";
    return json;
}

std::string SeriesStore::metricsJson(const std::string& deviceId) {
    return _reads.run([&](Connection& c) {
        std::string device = deviceId, json;
        c.session() << "SELECT COALESCE(json_agg(json_build_object('metric', metric, 'first_seen',"
                       " first_seen, 'last_seen', last_seen) ORDER BY metric), '[]')::text"
                       " FROM (SELECT metric, min(first_ts) AS first_seen, max(last_ts) AS"
                       " last_seen FROM sensor_project.rollup_1d WHERE device_id = $1"
                       " GROUP BY metric) m",
            use(device), into(json), now;
        return json;
    });
}

}  // namespace sensorsys::server
