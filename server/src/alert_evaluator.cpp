#include "alert_evaluator.hpp"

#include "alert_notification.hpp"
#include "connection_pool.hpp"
#include "timestamp.hpp"

#include <sensorsys/common/json_text.hpp>
#include <sensorsys/common/sql_migrations.hpp>

#include <Poco/Data/Statement.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <memory>
#include <optional>

// A microsecond count as timestamptz, and back (exact, unlike to_timestamp's double).
#define ALERT_TS(x) "(TIMESTAMPTZ 'epoch' + (" x ") * interval '1 microsecond')"
#define ALERT_MICROS(x) "(extract(epoch FROM " x ") * 1000000)::int8"

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {

struct Entry {
    AlertStatus status;
    bool changed = false;
    bool newEpisode = false;  // an episode began in this transaction: acks are cleared
};

std::string jsonNumber(std::optional<double> v) {
    if (!v) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *v);
    return buf;
}

std::string clock(std::int64_t micros) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp(micros), "%H:%M");
}

std::string renderSummary(const AlertRule& rule, const std::string& device,
                          std::optional<double> value) {
    std::string s = rule.summary;
    Poco::replaceInPlace(s, std::string("{device}"), device);
    Poco::replaceInPlace(s, std::string("{rule}"), rule.name);
    Poco::replaceInPlace(s, std::string("{metric}"), rule.metric);
    Poco::replaceInPlace(s, std::string("{value}"), value ? formatAlertValue(*value) : "-");
    return s;
}

// One device's alert work in one transaction: its states loaded under the device's lock,
// stepped, and written back with the history and outbox rows the steps produced.
class DeviceWork {
  public:
    DeviceWork(Poco::Data::Session& session, const AlertRules& rules, std::string device)
        : _session(session), _rules(rules), _device(std::move(device)) {}

    void lock() {
        _session << "SELECT pg_advisory_xact_lock(hashtextextended('sensorsys-alerts:' || $1, "
                    "0))::text",
            useRef(_device), now;
    }
    bool dirty() {
        int n = 0;
        _session << "SELECT count(*)::int4 FROM sensor_project.alert_dirty WHERE device_id = $1",
            useRef(_device), into(n), now;
        return n > 0;
    }
    void loadStates();
    AlertStatus& status(const AlertRule& rule) { return _states[rule.name].status; }
    void apply(const AlertRule& rule, const Step& step);
    void catchUp(const AlertRule& rule);
    void save();

  private:
    void owe(const AlertRule& rule, const AlertStatus& s, bool resolved);
    void addOutbox(const AlertRule& rule, const std::string& receiver, bool resolved,
                   const std::string& summary, std::optional<double> value, std::int64_t starts,
                   std::optional<std::int64_t> ends);

    Poco::Data::Session& _session;
    const AlertRules& _rules;
    const std::string _device;
    std::map<std::string, Entry> _states;
    std::string _history;
    std::string _outbox;
};

void DeviceWork::loadStates() {
    std::vector<std::string> rules, states;
    std::vector<double> values;
    std::vector<int> hasValue, notified, catchUps;
    std::vector<Poco::Int64> since, episode, cuStart, cuEnd;
    _session << "SELECT rule, state, COALESCE(value, 0), (value IS NOT NULL)::int4, "
                ALERT_MICROS("since") ", " ALERT_MICROS("episode_start") ", notified::int4, "
                "catchup_count, " ALERT_MICROS("COALESCE(catchup_start, 'epoch')") ", "
                ALERT_MICROS("COALESCE(catchup_end, 'epoch')")
                " FROM sensor_project.alert_state WHERE device_id = $1",
        useRef(_device), into(rules), into(states), into(values), into(hasValue), into(since),
        into(episode), into(notified), into(catchUps), into(cuStart), into(cuEnd), now;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        AlertStatus& s = _states[rules[i]].status;
        s.state = parseAlertState(states[i]).value_or(AlertState::Ok);
        if (hasValue[i]) s.value = values[i];
        s.sinceMicros = since[i];
        s.episodeMicros = episode[i];
        s.notified = notified[i] != 0;
        s.catchUpCount = catchUps[i];
        s.catchUpStartMicros = cuStart[i];
        s.catchUpEndMicros = cuEnd[i];
    }
}

void DeviceWork::apply(const AlertRule& rule, const Step& step) {
    if (!step.transition) return;
    Entry& e = _states[rule.name];
    e.changed = true;
    e.newEpisode = e.newEpisode || e.status.newEpisode;
    const AlertStatus& s = e.status;
    _history += std::string(_history.empty() ? "" : ",") + "{\"rule\":" + jsonString(rule.name) +
                ",\"state\":\"" + std::string(alertStateName(s.state)) +
                "\",\"value\":" + jsonNumber(s.value) + ",\"at\":" + std::to_string(s.sinceMicros) +
                "}";
    if (step.notice != Notice::None) owe(rule, s, step.notice == Notice::Resolved);
}

void DeviceWork::owe(const AlertRule& rule, const AlertStatus& s, bool resolved) {
    const std::string summary = renderSummary(rule, _device, s.value);
    for (const auto& name : rule.receivers) {
        const AlertReceiver* r = _rules.receiver(name);
        if (!r || (resolved && !r->sendResolved)) continue;
        addOutbox(rule, name, resolved, summary, s.value, s.episodeMicros,
                  resolved ? std::optional<std::int64_t>(s.sinceMicros) : std::nullopt);
    }
}

void DeviceWork::catchUp(const AlertRule& rule) {
    auto it = _states.find(rule.name);
    if (it == _states.end()) return;
    Entry& e = it->second;
    const CatchUp c = takeCatchUp(e.status);
    if (!c.firing && !c.summary) return;
    e.changed = true;
    if (c.firing) owe(rule, e.status, false);
    if (!c.summary) return;
    const std::string times = clock(c.startMicros) + "\u2013" + clock(c.endMicros) + " UTC";
    const std::string summary =
        rule.name + " fired " +
        (c.episodes > 1 ? std::to_string(c.episodes) + " times " : std::string()) + times +
        " while " + _device + " was offline";
    for (const auto& name : rule.receivers) {
        if (_rules.receiver(name))
            addOutbox(rule, name, true, summary, std::nullopt, c.startMicros, c.endMicros);
    }
}

void DeviceWork::addOutbox(const AlertRule& rule, const std::string& receiver, bool resolved,
                           const std::string& summary, std::optional<double> value,
                           std::int64_t starts, std::optional<std::int64_t> ends) {
    _outbox += std::string(_outbox.empty() ? "" : ",") + "{\"receiver\":" + jsonString(receiver) +
               ",\"rule\":" + jsonString(rule.name) + ",\"metric\":" + jsonString(rule.metric) +
               ",\"severity\":" + jsonString(rule.severity) + ",\"status\":\"" +
               (resolved ? "resolved" : "firing") + "\",\"summary\":" + jsonString(summary) +
               ",\"value\":" + jsonNumber(value) + ",\"starts\":" + std::to_string(starts) +
               ",\"ends\":" + (ends ? std::to_string(*ends) : "null") + "}";
}

std::string statesJson(const std::map<std::string, Entry>& states, const AlertRules& rules) {
    std::string out;
    for (const auto& [name, e] : states) {
        if (!e.changed) continue;
        std::string metric;
        for (const auto& r : rules.rules) {
            if (r.name == name) metric = r.metric;
        }
        const AlertStatus& s = e.status;
        out += std::string(out.empty() ? "[" : ",") + "{\"rule\":" + jsonString(name) +
               ",\"metric\":" + jsonString(metric) + ",\"state\":\"" +
               std::string(alertStateName(s.state)) + "\",\"value\":" + jsonNumber(s.value) +
               ",\"since\":" + std::to_string(s.sinceMicros) +
               ",\"episode\":" + std::to_string(s.episodeMicros) +
               ",\"notified\":" + (s.notified ? "true" : "false") +
               ",\"fresh\":" + (e.newEpisode ? "true" : "false") +
               ",\"cc\":" + std::to_string(s.catchUpCount) +
               ",\"cs\":" + std::to_string(s.catchUpStartMicros) +
               ",\"ce\":" + std::to_string(s.catchUpEndMicros) + "}";
    }
    return out.empty() ? out : out + "]";
}

void DeviceWork::save() {
    std::string states = statesJson(_states, _rules);
    if (!states.empty()) {
        _session << "INSERT INTO sensor_project.alert_state (rule, device_id, metric, state, "
                    "value, since, episode_start, notified, acked, catchup_count, catchup_start, "
                    "catchup_end) SELECT x.rule, $2, x.metric, x.state, x.value, " ALERT_TS(
                        "x.since") ", " ALERT_TS("x.episode") ", x.notified, NOT x.fresh, x.cc, "
                    "CASE WHEN x.cc > 0 THEN " ALERT_TS("x.cs") " END, CASE WHEN x.cc > 0 THEN "
                    ALERT_TS("x.ce") " END FROM jsonb_to_recordset($1::jsonb) AS x(rule text, "
                    "metric text, state text, value float8, since int8, episode int8, notified "
                    "bool, fresh bool, cc int4, cs int8, ce int8) ON CONFLICT (rule, device_id) "
                    "DO UPDATE SET metric = EXCLUDED.metric, state = EXCLUDED.state, value = "
                    "EXCLUDED.value, since = EXCLUDED.since, episode_start = "
                    "EXCLUDED.episode_start, notified = EXCLUDED.notified, acked = "
                    "alert_state.acked AND EXCLUDED.acked, catchup_count = "
                    "EXCLUDED.catchup_count, catchup_start = EXCLUDED.catchup_start, "
                    "catchup_end = EXCLUDED.catchup_end",
            use(states), useRef(_device), now;
    }
    if (!_history.empty()) {
        std::string rows = "[" + _history + "]";
        _session << "INSERT INTO sensor_project.alert_history (rule, device_id, state, value, at) "
                    "SELECT x.rule, $2, x.state, x.value, " ALERT_TS("x.at") " FROM "
                    "jsonb_to_recordset($1::jsonb) AS x(rule text, state text, value float8, at "
                    "int8)",
            use(rows), useRef(_device), now;
    }
    if (!_outbox.empty()) {
        std::string rows = "[" + _outbox + "]";
        _session << "INSERT INTO sensor_project.alert_outbox (receiver, rule, device_id, metric, "
                    "severity, status, summary, value, starts_at, ends_at) SELECT x.receiver, "
                    "x.rule, $2, x.metric, x.severity, x.status, x.summary, x.value, " ALERT_TS(
                        "x.starts") ", " ALERT_TS("x.ends") " FROM jsonb_to_recordset($1::jsonb) "
                    "AS x(receiver text, rule text, metric text, severity text, status text, "
                    "summary text, value float8, starts int8, ends int8)",
            use(rows), useRef(_device), now;
    }
}

// A device's readings after its watermark, one row per (reading, rule metric) present.
struct ReadingRows {
    std::vector<Poco::Int64> ids, ts, received;
    std::vector<std::string> quality, metrics;
    std::vector<double> values;
};

struct Watermark {
    std::string ts = "-infinity";
    Poco::Int64 id = 0;
};

Watermark loadWatermark(Poco::Data::Session& s, const std::string& device) {
    std::vector<std::string> ts;
    std::vector<Poco::Int64> ids;
    s << "SELECT to_char(evaluated_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
         "evaluated_id FROM sensor_project.alert_device WHERE device_id = $1",
        useRef(device), into(ts), into(ids), now;
    Watermark w;
    if (!ts.empty()) w = {ts[0], ids[0]};
    return w;
}

ReadingRows loadReadings(Poco::Data::Session& s, const std::string& device, const Watermark& w,
                         std::string metrics, int limit) {
    ReadingRows rows;
    const std::string values =
        metrics.empty()
            ? std::string("left($4::text, 0), 0::float8 FROM r")
            : std::string(
                  "COALESCE(p.metric, ''), COALESCE(p.value, 0) FROM r LEFT JOIN LATERAL "
                  "(SELECT metric, value FROM sensor_project.numeric_paths(r.payload) "
                  "WHERE metric = ANY (string_to_array($4, ','))) p ON true");
    Poco::Int64 after = w.id;
    s << "WITH r AS (SELECT id, ts_utc, received_at, ts_quality, payload FROM "
         "sensor_project.readings WHERE device_id = $1 AND ts_utc >= $2::timestamptz AND "
         "(ts_utc, id) > ($2::timestamptz, $3) ORDER BY ts_utc, id LIMIT $5) "
         "SELECT r.id, " ALERT_MICROS("r.ts_utc") ", " ALERT_MICROS("r.received_at") ", "
         "COALESCE(r.ts_quality, ''), " +
             values + " ORDER BY r.ts_utc, r.id",
        useRef(device), bind(w.ts), use(after), use(metrics), use(limit), into(rows.ids),
        into(rows.ts), into(rows.received), into(rows.quality), into(rows.metrics),
        into(rows.values), now;
    return rows;
}

void saveWatermark(Poco::Data::Session& s, const std::string& device, Poco::Int64 ts,
                   Poco::Int64 id, Poco::Int64 received) {
    s << "INSERT INTO sensor_project.alert_device (device_id, evaluated_ts, evaluated_id, "
         "last_received) VALUES ($1, " ALERT_TS("$2") ", $3, " ALERT_TS("$4") ") "
         "ON CONFLICT (device_id) DO UPDATE SET evaluated_ts = EXCLUDED.evaluated_ts, "
         "evaluated_id = EXCLUDED.evaluated_id, last_received = "
         "GREATEST(alert_device.last_received, EXCLUDED.last_received)",
        useRef(device), use(ts), use(id), use(received), now;
}

std::optional<double> valueOf(const ReadingRows& rows, std::size_t from, std::size_t to,
                              const std::string& metric) {
    for (std::size_t i = from; i < to; ++i) {
        if (rows.metrics[i] == metric) return rows.values[i];
    }
    return std::nullopt;
}

// Steps every rule over the rows in order; returns the readings seen and whether the newest
// was on time (the device has caught up).
std::pair<int, bool> stepRows(DeviceWork& work, const std::vector<const AlertRule*>& rules,
                              const ReadingRows& rows, std::int64_t lateAfterMicros) {
    int readings = 0;
    bool onTime = false;
    for (std::size_t i = 0; i < rows.ids.size();) {
        std::size_t end = i;
        while (end < rows.ids.size() && rows.ids[end] == rows.ids[i]) ++end;
        ++readings;
        const bool late = rows.received[i] - rows.ts[i] > lateAfterMicros;
        onTime = !late;
        if (rows.quality[i] != "unsynced") {
            for (const AlertRule* rule : rules) {
                const Observation o{rows.ts[i], valueOf(rows, i, end, rule->metric), late};
                work.apply(*rule, applyReading(*rule, work.status(*rule), o));
            }
        }
        i = end;
    }
    return {readings, onTime};
}

std::string metricsOf(const std::vector<const AlertRule*>& rules) {
    std::string out;
    for (const AlertRule* r : rules) {
        if (r->kind != RuleKind::NoData &&
            ("," + out + ",").find("," + r->metric + ",") == std::string::npos)
            out += (out.empty() ? "" : ",") + r->metric;
    }
    return out;
}

// One transaction over up to settings.chunkReadings of the device's new readings; returns the
// readings evaluated.
int evaluateChunk(Poco::Data::Session& s, const AlertRules& rules,
                  const std::vector<const AlertRule*>& matching, const std::string& device,
                  const AlertSettings& settings) {
    int done = 0;
    inTransaction(s, [&] {
        DeviceWork work(s, rules, device);
        work.lock();
        s << "DELETE FROM sensor_project.alert_dirty WHERE device_id = $1", useRef(device), now;
        const ReadingRows rows = loadReadings(s, device, loadWatermark(s, device),
                                              metricsOf(matching), settings.chunkReadings);
        if (rows.ids.empty()) return;
        if (!matching.empty()) work.loadStates();
        const auto [readings, onTime] =
            stepRows(work, matching, rows, settings.lateAfter.count() * 1000LL);
        if (onTime) {
            for (const AlertRule* rule : matching) work.catchUp(*rule);
        }
        work.save();
        Poco::Int64 received = 0;
        for (auto r : rows.received) received = std::max(received, r);
        saveWatermark(s, device, rows.ts.back(), rows.ids.back(), received);
        done = readings;
    });
    return done;
}

void evaluateDirty(Poco::Data::Session& s, const AlertRules& rules, const AlertSettings& settings) {
    std::vector<std::string> devices;
    s << "SELECT DISTINCT device_id FROM sensor_project.alert_dirty LIMIT 2000", into(devices), now;
    for (const auto& device : devices) {
        std::vector<const AlertRule*> matching;
        for (const auto& rule : rules.rules) {
            if (rule.matches(device)) matching.push_back(&rule);
        }
        while (evaluateChunk(s, rules, matching, device, settings) == settings.chunkReadings) {
        }
    }
}

Poco::Int64 databaseNow(Poco::Data::Session& s) {
    Poco::Int64 micros = 0;
    s << "SELECT " ALERT_MICROS("now()"), into(micros), now;
    return micros;
}

void noDataRule(Poco::Data::Session& s, const AlertRules& rules, const AlertRule& rule) {
    std::vector<std::string> devices;
    Poco::Int64 seconds = rule.noData.count();
    const std::string stale = "d.last_received < now() - $2 * interval '1 second'";
    s << "SELECT d.device_id FROM sensor_project.alert_device d LEFT JOIN "
         "sensor_project.alert_state s ON s.device_id = d.device_id AND s.rule = $1 WHERE " +
             stale + " AND COALESCE(s.state, 'ok') <> 'nodata'",
        bind(rule.name), use(seconds), into(devices), now;
    for (const auto& device : devices) {
        if (!rule.matches(device)) continue;
        inTransaction(s, [&] {
            DeviceWork work(s, rules, device);
            work.lock();
            int still = 0;
            s << "SELECT count(*)::int4 FROM sensor_project.alert_device d WHERE d.device_id = "
                 "$1 AND " +
                     stale,
                useRef(device), use(seconds), into(still), now;
            if (still == 0 || work.dirty()) return;  // readings arrived meanwhile
            work.loadStates();
            work.apply(rule, applyNoData(work.status(rule), databaseNow(s)));
            work.save();
        });
    }
}

void quietCatchUps(Poco::Data::Session& s, const AlertRules& rules, const AlertSettings& settings) {
    std::vector<std::string> devices;
    Poco::Int64 quiet = settings.catchUpQuiet.count();
    s << "SELECT DISTINCT s.device_id FROM sensor_project.alert_state s JOIN "
         "sensor_project.alert_device d ON d.device_id = s.device_id WHERE (s.catchup_count > 0 "
         "OR (s.state = 'firing' AND NOT s.notified)) AND d.last_received < now() - $1 * "
         "interval '1 millisecond'",
        use(quiet), into(devices), now;
    for (const auto& device : devices) {
        inTransaction(s, [&] {
            DeviceWork work(s, rules, device);
            work.lock();
            if (work.dirty()) return;
            work.loadStates();
            for (const auto& rule : rules.rules) work.catchUp(rule);
            work.save();
        });
    }
}

// A state whose rule is gone from the file, or no longer covers its device, leaves
// alert_state (so GET /alerts stops showing it) with a RETIRED history entry; an alert that had
// been notified as firing is resolved at the receivers that were told, if they are still
// configured and take resolved messages, so no pager keeps ringing for a deleted rule.
void retireOne(Poco::Data::Session& s, const AlertRules& rules, const std::string& rule,
               const std::string& device, const std::string& reason) {
    inTransaction(s, [&] {
        DeviceWork work(s, rules, device);
        work.lock();
        std::vector<std::string> receivers;
        for (const auto& r : rules.receivers) {
            if (r.sendResolved) receivers.push_back(r.name);
        }
        std::string wanted = Poco::cat(std::string(","), receivers.begin(), receivers.end());
        const std::string summary = rule + " on " + device + " resolved: " + reason;
        s << "WITH gone AS (DELETE FROM sensor_project.alert_state WHERE rule = $1 AND "
             "device_id = $2 RETURNING rule, device_id, state, value, episode_start, notified), "
             "h AS (INSERT INTO sensor_project.alert_history (rule, device_id, state, value, at) "
             "SELECT rule, device_id, 'retired', value, now() FROM gone WHERE state <> 'ok') "
             "INSERT INTO sensor_project.alert_outbox (receiver, rule, device_id, metric, "
             "severity, status, summary, value, starts_at, ends_at) SELECT DISTINCT ON "
             "(o.receiver) o.receiver, o.rule, o.device_id, o.metric, o.severity, 'resolved', "
             "$4, o.value, o.starts_at, now() FROM gone g JOIN sensor_project.alert_outbox o ON "
             "o.rule = g.rule AND o.device_id = g.device_id AND o.status = 'firing' AND "
             "o.starts_at = g.episode_start WHERE g.state = 'firing' AND g.notified AND "
             "o.receiver = ANY(string_to_array($3, ',')) ORDER BY o.receiver, o.id DESC",
            bind(rule), useRef(device), use(wanted), bind(summary), now;
    });
}

}  // namespace

AlertEvaluator::AlertEvaluator(std::string connection, int connectTimeoutSeconds,
                               AlertSettings settings, const AlertRuleSet& rules, Metrics& metrics,
                               Poco::Logger& logger)
    : _connection(std::move(connection)),
      _connectTimeoutSeconds(connectTimeoutSeconds),
      _settings(settings),
      _rules(rules),
      _metrics(metrics),
      _logger(logger) {}

AlertEvaluator::~AlertEvaluator() {
    stop();
}

void AlertEvaluator::start() {
    _thread.start([this] { round(); }, _settings.interval);
}

void AlertEvaluator::stop() {
    _thread.stop();
}

void AlertEvaluator::evaluateOnce(Poco::Data::Session& session, const AlertRules& rules,
                                  const AlertSettings& settings) {
    evaluateDirty(session, rules, settings);
    for (const auto& rule : rules.rules) {
        if (rule.kind == RuleKind::NoData) noDataRule(session, rules, rule);
    }
    quietCatchUps(session, rules, settings);
}

int AlertEvaluator::retireStates(Poco::Data::Session& session, const AlertRules& rules) {
    std::vector<std::string> names, devices;
    session << "SELECT rule, device_id FROM sensor_project.alert_state", into(names), into(devices),
        now;
    int retired = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto rule = std::find_if(rules.rules.begin(), rules.rules.end(),
                                       [&](const AlertRule& r) { return r.name == names[i]; });
        if (rule != rules.rules.end() && rule->matches(devices[i])) continue;
        retireOne(session, rules, names[i], devices[i],
                  rule == rules.rules.end() ? "the rule was removed"
                                            : "the rule no longer covers this device");
        ++retired;
    }
    return retired;
}

std::map<std::string, std::int64_t> AlertEvaluator::countStates(Poco::Data::Session& session) {
    std::vector<std::string> states;
    std::vector<Poco::Int64> counts;
    session << "SELECT state, count(*) FROM sensor_project.alert_state WHERE state <> 'ok' "
               "GROUP BY state",
        into(states), into(counts), now;
    std::map<std::string, std::int64_t> out{{"pending", 0}, {"firing", 0}, {"nodata", 0}};
    for (std::size_t i = 0; i < states.size(); ++i) out[states[i]] = counts[i];
    return out;
}

void AlertEvaluator::round() {
    const bool ok = guardedRound(_logger, "alert evaluator", [&] {
        if (!_session)
            _session.emplace(ConnectionPool::connect(_connection, _connectTimeoutSeconds));
        const auto rules = _rules.current();
        if (rules != _retiredFor) {
            if (const int n = retireStates(*_session, *rules); n > 0)
                _logger.information("alerts: retired %d state(s) of removed rules", n);
            _retiredFor = rules;
        }
        evaluateOnce(*_session, *rules, _settings);
        _metrics.setAlertCounts(countStates(*_session));
    });
    if (!ok) _session.reset();
}

}  // namespace sensorsys::server
