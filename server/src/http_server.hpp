// The running API: pool, service, metrics and the connections (api_connection.h: one poller
// thread, request threads only while a request is served). start() once, stop() once; port() is
// valid after start(). Used by main and by the tests.
#pragma once

#include "alert_evaluator.hpp"
#include "alert_rules.hpp"
#include "alert_sender.hpp"
#include "api_connection.hpp"
#include "api_service.hpp"
#include "change_feed.hpp"
#include "connection_pool.hpp"
#include "live_hub.hpp"
#include "metrics.hpp"
#include "periodic_thread.hpp"
#include "read_routing.hpp"
#include "rollup_worker.hpp"
#include "route_table.hpp"
#include "server_config.hpp"

#include <Poco/Logger.h>

#include <memory>

namespace sensorsys::server {

class ApiServer {
  public:
    // routes: the API's routes by default; tests pass a table with routes of their own.
    ApiServer(const ServerConfig& config, Poco::Logger& logger, RouteTable routes = apiRoutes());
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Applies pending migrations (if configured), binds, starts serving and the rollup worker.
    void start();
    // Stops accepting, lets in-flight requests finish (up to http.drain_timeout), then closes
    // what is left.
    void stop();
    int port() const { return _port; }

    ConnectionPool& pool() { return _pool; }
    ReadRouting& reads() { return _reads; }
    Metrics& metrics() { return _metrics; }

    ChangeFeed* feed() { return _feed.get(); }

    // Reads alerts.file again (SIGHUP). A file that fails validation leaves the rules in force;
    // the log says why. Returns whether the new rules were taken.
    bool reloadAlerts();
    const AlertRuleSet& alertRules() const { return _alertRules; }

  private:
    static std::unique_ptr<ConnectionPool> replicaPool(const ServerConfig& config);
    ChangeFeedHandlers feedHandlers();
    void startBackground();
    void startAlerts();

    const ServerConfig _config;
    Poco::Logger& _logger;
    Metrics _metrics;
    ConnectionPool _pool;
    ReadRouting _reads;
    ApiService _service;
    std::unique_ptr<LiveHub> _hub;
    std::unique_ptr<ChangeFeed> _feed;
    std::unique_ptr<ApiConnections> _connections;
    std::unique_ptr<RollupWorker> _rollups;
    std::unique_ptr<PartitionMaintenance> _partitions;
    AlertRuleSet _alertRules;
    std::unique_ptr<AlertEvaluator> _alertEvaluator;
    std::unique_ptr<AlertSender> _alertSender;
    PeriodicThread _replayLag;  // only with a replica
    int _port = 0;
};

}  // namespace sensorsys::server
