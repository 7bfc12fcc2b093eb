// The running API: pool, service, metrics and POCO's TCPServer serving our keep-alive
// connections (api_connection.h) on its own thread pool. start() once, stop() once; port() is
// valid after start(). Used by main and by the tests.
#pragma once

#include "api_connection.h"
#include "api_service.h"
#include "connection_pool.h"
#include "metrics.h"
#include "route_table.h"
#include "server_config.h"

#include <Poco/Logger.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/SharedPtr.h>
#include <Poco/ThreadPool.h>

#include <memory>

namespace sensorsys::server {

class ApiServer {
  public:
    // routes: the API's routes by default; tests pass a table with routes of their own.
    ApiServer(const ServerConfig& config, Poco::Logger& logger, RouteTable routes = apiRoutes());
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Applies pending migrations (if configured), binds and starts serving.
    void start();
    // Stops accepting, lets in-flight requests finish (up to http.drain_timeout), then closes
    // what is left.
    void stop();
    int port() const { return _port; }

    ConnectionPool& pool() { return _pool; }
    Metrics& metrics() { return _metrics; }

  private:
    const ServerConfig _config;
    Poco::Logger& _logger;
    Metrics _metrics;
    ConnectionPool _pool;
    ApiService _service;
    std::unique_ptr<Poco::ThreadPool> _threads;
    // Shared with the TCPServer, which owns it through POCO's SharedPtr; kept for stopAll().
    Poco::SharedPtr<ApiConnectionFactory> _connections;
    std::unique_ptr<Poco::Net::TCPServer> _server;
    int _port = 0;
};

}  // namespace sensorsys::server
