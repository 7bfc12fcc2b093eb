// The server's configuration: every key declared once (name, default, description), read and
// validated from a Poco configuration. Immutable after load; thread-safe to share.
#pragma once

#include "alert_rules.hpp"
#include "partition_maintenance.hpp"

#include <Poco/Message.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <string>

#include <sensorsys/common/config_keys.hpp>

namespace sensorsys::server {

// Every key the server reads, in the order etc/server.properties documents them.
const config::KeyTable& configKeys();

// A key has a value outside what is allowed, or is unknown; what() names the key and what is
// allowed (or the nearest known key). The server exits with 78 (EX_CONFIG) on it.
using ConfigError = config::ConfigError;

struct ServerConfig {
    std::string bind = "127.0.0.1";
    int port = 8000;
    int minThreads = 4;
    int maxThreads = 1024;
    int backlog = 1024;
    bool keepAlive = true;
    int keepAliveTimeoutSeconds = 15;
    int maxKeepAliveRequests = 0;
    int socketTimeoutSeconds = 30;
    int drainTimeoutSeconds = 10;
    int headerTimeoutSeconds = 10;
    int minBodyRate = 1024;  // bytes/s
    int sendTimeoutSeconds = 30;
    int maxConnections = 4096;
    // The dashboard's files; a missing directory: no dashboard (the API is unaffected).
    std::string wwwDir = SENSORSYS_WWW_DIR;  // empty: no dashboard
    // Chart.js as Debian's libjs-chart.js installs it, served at /vendor/chart.js.
    std::string chartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

    std::string databaseConnection = "host=127.0.0.1 port=5432 dbname=sensorsys user=sensorsys";
    int poolSize = 8;
    std::string readConnection;  // empty: no replica, every read on databaseConnection
    int readPoolSize = 0;        // 0: poolSize (replicaPoolSize())
    int poolWaitMillis = 2000;
    int connectTimeoutSeconds = 5;
    bool migrateOnStart = true;
    PartitionSettings partitions;
    int maintenanceIntervalMillis = 60000;  // 0: no maintenance thread (tests drive it)

    bool authEnabled = true;
    int authCacheSeconds = 5;

    std::int64_t maxBodyBytes = 16 * 1024 * 1024;
    int maxBatch = 10000;
    int maxPageRows = 10000;
    std::int64_t maxFutureSeconds = 86400;
    int streamPageRows = 1000;
    int seriesPoints = 10000;
    std::int64_t exportRows = 0;  // 0: no limit
    // 0: no rollup worker in this process (tests that drive one themselves).
    int rollupIntervalMillis = 1000;
    int liveClients = 1000;
    int liveQueue = 1000;
    int liveReplay = 10000;

    // alerts.file and the rules read from it at load (none when the default file is missing).
    std::string alertsFile = "/etc/sensorsys/alerts.properties";
    bool alertsFileRequired = false;  // named explicitly: missing is an error
    std::shared_ptr<const AlertRules> alertRules = std::make_shared<const AlertRules>();
    AlertSettings alerts;

    Poco::Message::Priority logLevel = Poco::Message::PRIO_INFORMATION;
    bool logRequests = true;

    // Reads every key of configKeys() from config (missing keys take their defaults) and
    // refuses keys configKeys() lacks in its namespaces. Throws ConfigError.
    static ServerConfig load(const Poco::Util::AbstractConfiguration& config);
    // Connections to the replica at most: database.read_pool_size, else database.pool_size.
    int replicaPoolSize() const { return readPoolSize > 0 ? readPoolSize : poolSize; }
};

}  // namespace sensorsys::server
