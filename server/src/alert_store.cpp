#include "alert_store.hpp"

#include "timestamp.hpp"

#include <Poco/Data/Statement.h>

#include <vector>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {

#define ALERT_RFC3339(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

constexpr const char* kAlertObject =
    "json_build_object('id', s.id, 'rule', s.rule, 'device_id', s.device_id, 'metric', "
    "s.metric, 'state', upper(s.state), 'value', s.value, 'since', " ALERT_RFC3339(
        "s.since") ", 'acked', s.acked)";

}  // namespace

std::string AlertStore::currentJson() {
    return _pool.run([&](Connection& c) {
        std::string json;
        c.session() << std::string("SELECT COALESCE(json_agg(") + kAlertObject +
                           " ORDER BY s.since DESC, s.id)::text, '[]') FROM "
                           "sensor_project.alert_state s WHERE s.state <> 'ok'",
            into(json), now;
        return json;
    });
}

std::string AlertStore::historyJson(const RangeQuery& range) {
    return _pool.run([&](Connection& c) {
        std::string json;
        std::string start = formatUtcForSql(range.start.epochMicros);
        std::string end = formatUtcForSql(range.end.epochMicros);
        std::string device = range.deviceId.value_or("");
        // The device filter only when there is one (a generic plan could not use it otherwise).
        c.session() << std::string("SELECT COALESCE(json_agg(json_build_object('id', h.id, "
                                   "'rule', h.rule, 'device_id', h.device_id, 'state', "
                                   "upper(h.state), 'value', h.value, 'at', " ALERT_RFC3339(
                                       "h.at") ") ORDER BY h.at, h.id)::text, '[]') FROM "
                                   "sensor_project.alert_history h WHERE h.at >= "
                                   "$1::timestamptz AND h.at <= $2::timestamptz AND ") +
                           (range.deviceId ? "h.device_id = $3" : "$3 = ''"),
            use(start), use(end), use(device), into(json), now;
        return json;
    });
}

std::optional<std::string> AlertStore::ack(std::int64_t id) {
    return _pool.run([&](Connection& c) -> std::optional<std::string> {
        std::vector<std::string> json;
        Poco::Int64 key = id;
        c.session() << std::string(
                           "UPDATE sensor_project.alert_state s SET acked = true WHERE "
                           "s.id = $1 RETURNING ") +
                           kAlertObject + "::text",
            use(key), into(json), now;
        if (json.empty()) return std::nullopt;
        return json.front();
    });
}

}  // namespace sensorsys::server
