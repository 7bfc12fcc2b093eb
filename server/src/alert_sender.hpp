// Delivers the alert outbox (V007): a thread with a PostgreSQL connection of its own that
// claims the oldest due row (FOR UPDATE SKIP LOCKED, so several servers never send one row
// twice; under an advisory lock, so only one server sends at a time and each receiver gets its
// rows in order), posts it to its receiver and marks it sent only after a 2xx. A failure backs the
// receiver's due rows off exponentially from 1 s to alerts.backoff_max; a row older than the
// receiver's give_up_after is given up. start()/stop() from one thread; sendDue() for tests.
#pragma once

#include "alert_rules.hpp"
#include "metrics.hpp"
#include "periodic_thread.hpp"

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sensorsys::server {

// The advisory lock a sending transaction holds ("alerts!!"), shared by every server.
constexpr std::int64_t kAlertSendLockKey = 0x616c657274732121LL;

class AlertSender {
  public:
    AlertSender(std::string connection, int connectTimeoutSeconds,
                std::chrono::milliseconds backoffMax, std::chrono::milliseconds interval,
                const AlertRuleSet& rules, Metrics& metrics, Poco::Logger& logger);
    ~AlertSender();
    AlertSender(const AlertSender&) = delete;
    AlertSender& operator=(const AlertSender&) = delete;

    void start();
    void stop();

    // The delay before attempt n + 1 after n failed ones: 1 s doubling, at most backoffMax.
    static std::chrono::milliseconds backoff(int failedAttempts,
                                             std::chrono::milliseconds backoffMax);

  private:
    enum class Outcome { Idle, Sent, Failed };
    Outcome sendOne(Poco::Data::Session& session);
    void round();

    const std::string _connection;
    const int _connectTimeoutSeconds;
    const std::chrono::milliseconds _backoffMax;
    const std::chrono::milliseconds _interval;
    const AlertRuleSet& _rules;
    Metrics& _metrics;
    Poco::Logger& _logger;
    std::optional<Poco::Data::Session> _session;  // the thread's own
    PeriodicThread _thread;                       // last: stopped first
};

}  // namespace sensorsys::server
