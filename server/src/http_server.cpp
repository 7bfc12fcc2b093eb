#include "http_server.hpp"

#include "migrator.hpp"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace sensorsys::server {

ApiServer::ApiServer(const ServerConfig& config, Poco::Logger& logger, RouteTable routes)
    : _config(config),
      _logger(logger),
      _metrics(routes.routes()),
      _pool(config.databaseConnection, config.poolSize,
            std::chrono::milliseconds(config.poolWaitMillis), config.connectTimeoutSeconds),
      _reads(_pool, replicaPool(config), logger),
      _service(_config, _reads, _metrics, std::move(routes)),
      _alertRules(config.alertRules) {}

ApiServer::~ApiServer() {
    if (_connections) stop();
}

namespace {

// The lag is read this often: a scrape interval's worth, and no query per request.
constexpr std::chrono::seconds kReplayLagInterval{5};

// Said once at start, not per request: a server without the dashboard's files is a normal
// API-only installation.
void logDashboard(const ServerConfig& config, Poco::Logger& logger) {
    std::error_code ec;
    if (config.wwwDir.empty()) {
        logger.information("no dashboard: http.www_dir is empty (the API is served)");
    } else if (std::filesystem::is_directory(config.wwwDir, ec)) {
        logger.information("dashboard files from %s", config.wwwDir);
    } else {
        logger.information("no dashboard: http.www_dir %s is not a folder (the API is served)",
                           config.wwwDir);
    }
}

}  // namespace

std::unique_ptr<ConnectionPool> ApiServer::replicaPool(const ServerConfig& config) {
    if (config.readConnection.empty()) return nullptr;
    return std::make_unique<ConnectionPool>(config.readConnection, config.replicaPoolSize(),
                                            std::chrono::milliseconds(config.poolWaitMillis),
                                            config.connectTimeoutSeconds);
}

void ApiServer::start() {
    if (_config.migrateOnStart) {
        auto session =
            ConnectionPool::connect(_config.databaseConnection, _config.connectTimeoutSeconds);
        const auto applied = migrate(session);
        for (int v : applied) _logger.information("applied migration V%03d", v);
        // Before the first request: the partitions for now (the maintenance thread keeps them
        // ahead afterwards).
        PartitionMaintenance::makeAhead(session, _config.partitions);
    }
    LiveSettings live;
    live.maxClients = static_cast<std::size_t>(_config.liveClients);
    live.queue = static_cast<std::size_t>(_config.liveQueue);
    live.replay = _config.liveReplay;
    _hub = std::make_unique<LiveHub>(live, _service, _logger);
    _hub->start();
    _service.setLiveHub(_hub.get());
    _feed = std::make_unique<ChangeFeed>(_config.databaseConnection + " connect_timeout=" +
                                             std::to_string(_config.connectTimeoutSeconds),
                                         feedHandlers(), _logger);
    _service.onCommit([feed = _feed.get()](std::vector<StoredReading> rows) {
        feed->committed(std::move(rows));
    });
    _feed->start();
    // Live clients are taken once the feed has its first position; it normally takes a few
    // milliseconds (the database answered the migration just now).
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(_config.connectTimeoutSeconds);
    while (!_feed->listening() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
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
    _connections = std::make_unique<ApiConnections>(socket, params, _config, _service, _logger);
    _connections->start();
    startBackground();
    logDashboard(_config, _logger);
    _logger.information("listening on %s:%d (threads %d, db pool %d)", _config.bind, _port,
                        _config.maxThreads, _config.poolSize);
}

// The database's background jobs; each is safe with several servers (advisory locks).
void ApiServer::startBackground() {
    if (_config.rollupIntervalMillis > 0) {
        _rollups = std::make_unique<RollupWorker>(
            _config.databaseConnection, _config.connectTimeoutSeconds,
            std::chrono::milliseconds(_config.rollupIntervalMillis), _logger);
        _rollups->start();
    }
    if (_config.maintenanceIntervalMillis > 0) {
        _partitions = std::make_unique<PartitionMaintenance>(
            _config.databaseConnection, _config.connectTimeoutSeconds, _config.partitions,
            std::chrono::milliseconds(_config.maintenanceIntervalMillis), _logger);
        _partitions->start();
    }
    startAlerts();
    if (_reads.hasReplica()) {
        _replayLag.start([this] { _reads.measureReplayLag(); },
                         std::chrono::milliseconds(kReplayLagInterval));
        _logger.information("reads on the replica (database.read_connection), pool %d",
                            _config.replicaPoolSize());
    }
}

void ApiServer::startAlerts() {
    _alertEvaluator =
        std::make_unique<AlertEvaluator>(_config.databaseConnection, _config.connectTimeoutSeconds,
                                         _config.alerts, _alertRules, _metrics, _logger);
    _alertEvaluator->start();
    _alertSender = std::make_unique<AlertSender>(
        _config.databaseConnection, _config.connectTimeoutSeconds, _config.alerts.backoffMax,
        _config.alerts.interval, _alertRules, _metrics, _logger);
    _alertSender->start();
    const auto rules = _alertRules.current();
    _logger.information("alerts: %z rule(s), %z receiver(s) from %s", rules->rules.size(),
                        rules->receivers.size(), _config.alertsFile);
}

bool ApiServer::reloadAlerts() {
    try {
        auto rules = loadAlertRules(_config.alertsFile, _config.alertsFileRequired);
        _logger.information("alerts: reloaded %z rule(s), %z receiver(s) from %s",
                            rules->rules.size(), rules->receivers.size(), _config.alertsFile);
        _alertRules.replace(std::move(rules));
        return true;
    } catch (const std::exception& e) {
        _logger.error("alerts: reload refused, the previous rules stay: %s", std::string(e.what()));
        return false;
    }
}

void ApiServer::stop() {
    _replayLag.stop();
    if (_alertSender) _alertSender->stop();
    if (_alertEvaluator) _alertEvaluator->stop();
    if (_rollups) _rollups->stop();
    _rollups.reset();
    if (_partitions) _partitions->stop();
    _partitions.reset();
    if (!_connections) return;
    // Live clients first (WebSocket close 1001): they have no request to finish.
    _hub->stop();
    // Stop accepting; idle connections end at once, the others after the request they are
    // serving (cut after http.drain_timeout).
    _connections->stop(std::chrono::seconds(_config.drainTimeoutSeconds));
    _connections.reset();
    _feed->stop();
}

ChangeFeedHandlers ApiServer::feedHandlers() {
    ChangeFeedHandlers h;
    h.up = [this] { _hub->setReady(); };
    h.down = [this] {
        _service.latestCache().turnOff();
        _metrics.setCacheOn(false);
    };
    h.rows = [this](const std::vector<FeedRow>& rows) {
        for (const auto& row : rows) _service.latestCache().offer(row.reading);
        _hub->publish(rows);
    };
    h.settled = [this](const FeedCursor& cursor) { _hub->settled(cursor); };
    h.caughtUp = [this] {
        _metrics.setNotificationLag(_feed->lastLagMicros());
        if (_service.latestCache().on()) return;
        try {
            _service.loadLatestCache();
        } catch (const std::exception& e) {
            _logger.warning("latest-reading cache not loaded (tried again): %s",
                            std::string(e.what()));
        }
    };
    return h;
}

}  // namespace sensorsys::server
