#include "export_store.hpp"

#include "reading_store.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/Data/Statement.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <tuple>
#include <utility>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

std::string csvHeader(const std::vector<std::string>& metrics) {
    std::string out = "ts_utc,device_id";
    if (metrics.empty()) out += ",payload";
    for (const auto& m : metrics) {
        out += ',';
        out += csvField(m);
    }
    return out + "\r\n";
}

std::string csvField(const std::string& field) {
    if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
    std::string out = "\"";
    for (const char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string exportFileName(const ExportQuery& query) {
    const auto compact = [](std::int64_t micros) {
        std::string text = formatUtcForSql(micros - micros % 1000000);  // ...T05:00:00.000000Z
        text = text.substr(0, 19);
        text.erase(
            std::remove_if(text.begin(), text.end(), [](char c) { return c == '-' || c == ':'; }),
            text.end());
        return text + "Z";
    };
    return "sensorsys-readings-" + compact(query.range.start.epochMicros) + "-" +
           compact(query.range.end.epochMicros) + (query.csv ? ".csv" : ".ndjson");
}

namespace {

struct ExportRows {
    std::vector<StoredReading> readings;
    std::vector<std::string> values;  // per reading: the metrics' JSON numbers, tab-separated
};

// One page after the cursor: the readings and, per requested metric, its number ("" when the
// reading has none there or its sensor reported an error).
ExportRows exportPage(Connection& c, const ExportQuery& q, const Cursor& after, int limit) {
    std::string start = formatUtcForSql(q.range.start.epochMicros),
                end = formatUtcForSql(q.range.end.epochMicros),
                afterTs = formatUtcForSql(after.tsLocalMicros), utcLo, utcHi,
                device = q.range.deviceId.value_or(""), metrics = "[";
    for (const auto& m : q.metrics) {
        if (metrics.size() > 1) metrics += ',';
        appendJsonString(metrics, m);
    }
    metrics += ']';
    std::tie(utcLo, utcHi) = utcBoundsOfLocal(after.tsLocalMicros, q.range.end.epochMicros);
    Poco::Int64 afterId = after.id;
    std::vector<Poco::Int64> id, tsUtc, tsLocal;
    std::vector<int> offset;
    std::vector<std::string> readingId, deviceId, payload, quality, values;
    Poco::Data::Statement s(c.session());
    // The device filter is written only when there is one: a generic plan of
    // "($7 = '' OR device_id = $7)" could not use the device's index.
    const char* deviceFilter = q.range.deviceId ? "device_id = $7" : "$7 = ''";
    s << "SELECT id::int8, reading_id::text, device_id, (extract(epoch FROM ts_utc) * "
         "1000000)::int8,"
         " (extract(epoch FROM ts_local) * 1000000)::int8, ts_local_offset, payload::text,"
         " COALESCE(ts_quality, ''),"
         " array_to_string(array(SELECT CASE WHEN jsonb_typeof(payload #> string_to_array(m, '.'))"
         " = 'number' AND NOT COALESCE(payload -> split_part(m, '.', 1) ? 'error', false)"
         " THEN (payload #> string_to_array(m, '.'))::text ELSE '' END"
         " FROM jsonb_array_elements_text($6::jsonb) WITH ORDINALITY u(m, i) ORDER BY i), E'\\t')"
         " FROM sensor_project.stored_readings WHERE "
      << deviceFilter
      << " AND ts_local >= $1::timestamptz AND ts_local <= $2::timestamptz"
         " AND (ts_local, id) > ($3::timestamptz, $4::int8)"
         " AND " SENSORSYS_TS_UTC_BOUNDS("$8", "$9") " ORDER BY ts_local, id LIMIT $5",
        use(start), use(end), use(afterTs), use(afterId), use(limit), use(metrics), use(device),
        use(utcLo), use(utcHi), into(id), into(readingId), into(deviceId), into(tsUtc),
        into(tsLocal), into(offset), into(payload), into(quality), into(values);
    s.execute();
    ExportRows rows;
    for (std::size_t i = 0; i < id.size(); ++i) {
        rows.readings.push_back({id[i], std::move(readingId[i]), std::move(deviceId[i]), tsUtc[i],
                                 tsLocal[i], offset[i], std::move(quality[i]),
                                 std::move(payload[i])});
    }
    rows.values = std::move(values);
    return rows;
}

std::vector<std::string> splitTabs(const std::string& text, std::size_t count) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t tab = text.find('\t', pos);
        out.push_back(text.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
        pos = tab == std::string::npos ? text.size() : tab + 1;
    }
    return out;
}

std::vector<std::string> pathKeys(const std::string& path) {
    std::vector<std::string> keys;
    std::size_t pos = 0, dot;
    while ((dot = path.find('.', pos)) != std::string::npos) {
        keys.push_back(path.substr(pos, dot - pos));
        pos = dot + 1;
    }
    keys.push_back(path.substr(pos));
    return keys;
}

// {"bme280": {"temperature": {"c": 21.5}}} from the paths that have a number.
std::string nestedPayload(const std::vector<std::string>& metrics,
                          const std::vector<std::string>& values) {
    std::vector<std::pair<std::vector<std::string>, std::string>> leaves;
    for (std::size_t i = 0; i < metrics.size(); ++i)
        if (!values[i].empty()) leaves.emplace_back(pathKeys(metrics[i]), values[i]);
    std::sort(leaves.begin(), leaves.end());
    leaves.erase(std::unique(leaves.begin(), leaves.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 leaves.end());
    std::string out = "{";
    std::vector<std::string> open;  // the keys of the objects open now
    for (const auto& [keys, value] : leaves) {
        std::size_t common = 0;
        while (common < open.size() && common + 1 < keys.size() && open[common] == keys[common])
            ++common;
        for (; open.size() > common; open.pop_back()) out += '}';
        if (out.back() != '{') out += ", ";
        for (std::size_t k = common; k + 1 < keys.size(); ++k) {
            appendJsonString(out, keys[k]);
            out += ": {";
            open.push_back(keys[k]);
        }
        appendJsonString(out, keys.back());
        out += ": " + value;
    }
    out.append(open.size(), '}');
    return out + "}";
}

void appendRow(std::string& chunk, const ExportQuery& q, StoredReading& reading,
               const std::string& values) {
    const auto fields = splitTabs(values, q.metrics.size());
    if (!q.csv) {
        if (!q.metrics.empty()) reading.payloadJson = nestedPayload(q.metrics, fields);
        reading.appendJson(chunk);
        chunk += '\n';
        return;
    }
    appendTimestamp(chunk, {reading.tsUtcMicros, 0});
    chunk += ',';
    chunk += csvField(reading.deviceId);
    if (q.metrics.empty()) {
        chunk += ',';
        chunk += csvField(reading.payloadJson);
    }
    for (const auto& field : fields) {
        chunk += ',';
        chunk += field;
    }
    chunk += "\r\n";
}

}  // namespace

bool ExportStore::write(const ExportQuery& q, std::ostream& out) {
    try {
        Cursor after{q.range.start.epochMicros, -1};
        std::int64_t written = 0;
        while (_maxRows == 0 || written < _maxRows) {
            const int limit = static_cast<int>(
                _maxRows == 0 ? _pageRows : std::min<std::int64_t>(_pageRows, _maxRows - written));
            auto rows = _reads.run([&](Connection& c) { return exportPage(c, q, after, limit); });
            std::string chunk;
            for (std::size_t i = 0; i < rows.readings.size(); ++i)
                appendRow(chunk, q, rows.readings[i], rows.values[i]);
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            if (!out) return false;
            written += static_cast<std::int64_t>(rows.readings.size());
            if (static_cast<int>(rows.readings.size()) < limit) break;
            after = Cursor{rows.readings.back().tsLocalMicros, rows.readings.back().id};
        }
        out.flush();
        return static_cast<bool>(out);
    } catch (const Poco::Exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("GET /readings/export failed: %s", e.displayText());
        return false;
    } catch (const std::exception& e) {
        Poco::Logger::get("sensorsys-server")
            .error("GET /readings/export failed: %s", std::string(e.what()));
        return false;
    }
}

}  // namespace sensorsys::server
