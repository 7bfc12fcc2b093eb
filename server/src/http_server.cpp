#include "http_server.h"

#include "migrator.h"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Thread.h>

#include <chrono>

namespace sensorsys::server {

ApiServer::ApiServer(const ServerConfig& config, Poco::Logger& logger, RouteTable routes)
    : _config(config),
      _logger(logger),
      _metrics(routes.routes()),
      _pool(config.databaseConnection, config.poolSize,
            std::chrono::milliseconds(config.poolWaitMillis), config.connectTimeoutSeconds),
      _service(_config, _pool, _metrics, std::move(routes)) {}

ApiServer::~ApiServer() {
    if (_server) stop();
}

void ApiServer::start() {
    if (_config.migrateOnStart) {
        auto session =
            ConnectionPool::connect(_config.databaseConnection, _config.connectTimeoutSeconds);
        const auto applied = migrate(session);
        for (int v : applied) _logger.information("applied migration V%03d", v);
    }
    // One thread per connection for its whole life (keep-alive included): the pool's size is
    // the number of connections served at once; small stacks keep that affordable.
    _threads =
        std::make_unique<Poco::ThreadPool>(_config.minThreads, _config.maxThreads, 60, 512 * 1024);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(_config.maxThreads);
    params->setMaxQueued(_config.maxThreads);
    params->setKeepAlive(_config.keepAlive);
    params->setKeepAliveTimeout(Poco::Timespan(_config.keepAliveTimeoutSeconds, 0));
    params->setMaxKeepAliveRequests(_config.maxKeepAliveRequests);
    params->setTimeout(Poco::Timespan(_config.socketTimeoutSeconds, 0));
    params->setServerName("sensorsys-server");
    params->setSoftwareVersion("sensorsys-server/0.1");
    Poco::Net::ServerSocket socket(
        Poco::Net::SocketAddress(_config.bind, static_cast<Poco::UInt16>(_config.port)),
        _config.backlog);
    _port = socket.address().port();
    _connections = Poco::makeShared<ApiConnectionFactory>(params, _config, _service, _logger);
    _server = std::make_unique<Poco::Net::TCPServer>(_connections, *_threads, socket, params);
    _server->start();
    _logger.information("listening on %s:%d (threads %d, db pool %d)", _config.bind, _port,
                        _config.maxThreads, _config.poolSize);
}

void ApiServer::stop() {
    if (!_server) return;
    // Stop accepting (accepted connections still queued are closed unserved); connections end
    // after the request they are serving, idle keep-alive ones at once.
    _server->stop();
    _connections->stopAll(false);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(_config.drainTimeoutSeconds);
    while (_server->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
        Poco::Thread::sleep(20);
    }
    if (_server->currentConnections() > 0) {
        _logger.warning("closing %d connection(s) still open after %d s",
                        _server->currentConnections(), _config.drainTimeoutSeconds);
        _connections->stopAll(true);
    }
    _threads->joinAll();
    _server.reset();
    _connections.reset();
    _threads.reset();
}

}  // namespace sensorsys::server
