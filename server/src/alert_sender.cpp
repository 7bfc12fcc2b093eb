#include "alert_sender.hpp"

#include "alert_notification.hpp"
#include "connection_pool.hpp"

#include <sensorsys/common/sql_migrations.hpp>

#include <Poco/Data/Statement.h>

#include <algorithm>
#include <optional>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {

struct Claimed {
    Notification n;
    std::string receiver;
    int attempts = 0;
    Poco::Int64 ageSeconds = 0;
};

std::optional<Claimed> claim(Poco::Data::Session& s) {
    // One sender at a time among the servers on this database, for this transaction: while
    // another server delivers a receiver's oldest row, SKIP LOCKED alone would hand us the next
    // one, and a "resolved" could reach the receiver before its "firing".
    Poco::Int64 key = kAlertSendLockKey;
    int mine = 0;
    s << "SELECT pg_try_advisory_xact_lock($1)::int4", use(key), into(mine), now;
    if (mine == 0) return std::nullopt;
    std::vector<Poco::Int64> ids, starts, ends, ages;
    std::vector<std::string> receivers, rules, devices, metrics, severities, statuses, summaries;
    std::vector<double> values;
    std::vector<int> hasValue, hasEnd, attempts;
    s << "SELECT id, receiver, rule, device_id, metric, severity, status, summary, "
         "COALESCE(value, 0), (value IS NOT NULL)::int4, "
         "(extract(epoch FROM starts_at) * 1000000)::int8, "
         "COALESCE((extract(epoch FROM ends_at) * 1000000)::int8, 0), "
         "(ends_at IS NOT NULL)::int4, attempts, extract(epoch FROM now() - created_at)::int8 "
         "FROM sensor_project.alert_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND "
         "next_attempt_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        into(ids), into(receivers), into(rules), into(devices), into(metrics), into(severities),
        into(statuses), into(summaries), into(values), into(hasValue), into(starts), into(ends),
        into(hasEnd), into(attempts), into(ages), now;
    if (ids.empty()) return std::nullopt;
    Claimed c;
    c.n.id = ids[0];
    c.n.rule = rules[0];
    c.n.deviceId = devices[0];
    c.n.metric = metrics[0];
    c.n.severity = severities[0];
    c.n.resolved = statuses[0] == "resolved";
    c.n.summary = summaries[0];
    if (hasValue[0]) c.n.value = values[0];
    c.n.startsMicros = starts[0];
    if (hasEnd[0]) c.n.endsMicros = ends[0];
    c.receiver = receivers[0];
    c.attempts = attempts[0];
    c.ageSeconds = ages[0];
    return c;
}

void giveUp(Poco::Data::Session& s, Poco::Int64 id, std::string why) {
    s << "UPDATE sensor_project.alert_outbox SET gave_up_at = now(), last_error = $2 WHERE id = "
         "$1",
        use(id), use(why), now;
}

}  // namespace

AlertSender::AlertSender(std::string connection, int connectTimeoutSeconds,
                         std::chrono::milliseconds backoffMax, std::chrono::milliseconds interval,
                         const AlertRuleSet& rules, Metrics& metrics, Poco::Logger& logger)
    : _connection(std::move(connection)),
      _connectTimeoutSeconds(connectTimeoutSeconds),
      _backoffMax(backoffMax),
      _interval(interval),
      _rules(rules),
      _metrics(metrics),
      _logger(logger) {}

AlertSender::~AlertSender() {
    stop();
}

void AlertSender::start() {
    _thread.start([this] { round(); }, _interval);
}

void AlertSender::stop() {
    _thread.stop();
}

std::chrono::milliseconds AlertSender::backoff(int failedAttempts,
                                               std::chrono::milliseconds backoffMax) {
    std::chrono::milliseconds delay(1000);
    for (int i = 1; i < failedAttempts && delay < backoffMax; ++i) delay *= 2;
    return std::min(delay, backoffMax);
}

AlertSender::Outcome AlertSender::sendOne(Poco::Data::Session& s) {
    Outcome outcome = Outcome::Idle;
    const auto rules = _rules.current();
    inTransaction(s, [&] {
        auto c = claim(s);
        if (!c) return;
        const AlertReceiver* receiver = rules->receiver(c->receiver);
        if (!receiver || c->ageSeconds > receiver->giveUpAfter.count()) {
            giveUp(s, c->n.id, receiver ? "give_up_after passed" : "receiver not configured");
            _metrics.addAlertNotification(false, true);
            _logger.error("alert notification %Ld to %s given up", static_cast<long long>(c->n.id),
                          c->receiver);
            outcome = Outcome::Failed;
            return;
        }
        std::string error;
        Poco::Int64 id = c->n.id;
        if (deliver(*receiver, c->n, error)) {
            s << "UPDATE sensor_project.alert_outbox SET sent_at = now(), attempts = attempts + 1 "
                 "WHERE id = $1",
                use(id), now;
            _metrics.addAlertNotification(true, false);
            outcome = Outcome::Sent;
            return;
        }
        Poco::Int64 delayMs = backoff(c->attempts + 1, _backoffMax).count();
        // The receiver's other due rows wait too, so they stay in order behind this one.
        s << "UPDATE sensor_project.alert_outbox SET attempts = attempts + (id = $1)::int4, "
             "last_error = CASE WHEN id = $1 THEN $2 ELSE last_error END, next_attempt_at = "
             "GREATEST(next_attempt_at, now() + $3 * interval '1 millisecond') WHERE receiver = "
             "$4 AND sent_at IS NULL AND gave_up_at IS NULL",
            use(id), use(error), use(delayMs), bind(c->receiver), now;
        _metrics.addAlertNotification(false, false);
        _logger.warning("alert notification %Ld to %s failed: %s", static_cast<long long>(id),
                        c->receiver, error);
        outcome = Outcome::Failed;
    });
    return outcome;
}

void AlertSender::round() {
    const bool ok = guardedRound(_logger, "alert sender", [&] {
        if (!_session)
            _session.emplace(ConnectionPool::connect(_connection, _connectTimeoutSeconds));
        while (sendOne(*_session) != Outcome::Idle &&
               _thread.waitFor(std::chrono::milliseconds(0))) {
        }
    });
    if (!ok) _session.reset();
}

}  // namespace sensorsys::server
