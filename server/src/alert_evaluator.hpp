// Evaluates the alert rules on stored readings: a thread with a PostgreSQL connection of its
// own that, every interval, takes the devices ingest marked (alert_dirty, V007), runs each
// device's new readings in (ts_utc, id) order through the state machine (alert_state.hpp),
// fires no-data rules by the server's receive clock, and sends the catch-up of a device whose
// backlog is done. Each device's work is one transaction under an advisory lock per device:
// the transitions, their history and the outbox rows they owe commit together, and with
// several servers on one database each transition happens once. start()/stop() from one
// thread; evaluateOnce() is for tests.
#pragma once

#include "alert_rules.hpp"
#include "alert_state.hpp"
#include "metrics.hpp"
#include "periodic_thread.hpp"

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sensorsys::server {

class AlertEvaluator {
  public:
    AlertEvaluator(std::string connection, int connectTimeoutSeconds, AlertSettings settings,
                   const AlertRuleSet& rules, Metrics& metrics, Poco::Logger& logger);
    ~AlertEvaluator();
    AlertEvaluator(const AlertEvaluator&) = delete;
    AlertEvaluator& operator=(const AlertEvaluator&) = delete;

    void start();
    void stop();

    // One round on session: every marked device, the no-data rules, the quiet catch-ups.
    static void evaluateOnce(Poco::Data::Session& session, const AlertRules& rules,
                             const AlertSettings& settings);
    // Retires the states whose rule is gone or no longer covers their device (see the
    // implementation); the evaluator does it whenever the rules change. Returns how many.
    static int retireStates(Poco::Data::Session& session, const AlertRules& rules);
    // The number of current alerts per state (for /metrics).
    static std::map<std::string, std::int64_t> countStates(Poco::Data::Session& session);

  private:
    void round();

    const std::string _connection;
    const int _connectTimeoutSeconds;
    const AlertSettings _settings;
    const AlertRuleSet& _rules;
    Metrics& _metrics;
    Poco::Logger& _logger;
    std::optional<Poco::Data::Session> _session;    // the thread's own
    std::shared_ptr<const AlertRules> _retiredFor;  // the rules states were last retired for
    PeriodicThread _thread;                         // last: stopped first
};

}  // namespace sensorsys::server
