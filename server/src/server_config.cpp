#include "server_config.hpp"

#include <Poco/String.h>

#include <sensorsys/common/seed_log_formatter.hpp>

namespace sensorsys::server {
namespace {

using namespace config;  // the *Key table constructors

std::optional<std::string> knownLevel(const std::string& value) {
    if (SeedLogFormatter::priorityOf(Poco::toLower(value))) return std::nullopt;
    return "must be one of debug, info, warning, error or critical";
}

constexpr ConfigKey logLevelKey() {
    ConfigKey key = stringKey("logging.level", "info",
                              "least severe level logged: debug, info, warning, error or critical "
                              "(the agent's names; POCO's trace, notice, information and fatal "
                              "are accepted too)",
                              true);
    key.check = &knownLevel;
    return key;
}

std::optional<std::string> alertDuration(const std::string& value) {
    if (parseAlertDuration(value)) return std::nullopt;
    return "must be a whole number followed by s, m, h or d (2m)";
}

constexpr ConfigKey alertDurationKey(std::string_view name, std::string_view fallback,
                                     std::string_view description) {
    ConfigKey key = stringKey(name, fallback, description, true);
    key.check = &alertDuration;
    return key;
}

std::optional<std::string> partitionInterval(const std::string& value) {
    if (validPartitionInterval(value)) return std::nullopt;
    return "must be a whole number of days, weeks or months (1 month, 7 days, 2 weeks), or "
           "external";
}

constexpr ConfigKey partitionIntervalKey() {
    ConfigKey key = stringKey("database.partition_interval", "1 month",
                              "time range of each partition of the readings table; external: "
                              "another tool (pg_partman) makes them",
                              true);
    key.check = &partitionInterval;
    return key;
}

constexpr std::string_view kDefaultAlertsFile = "/etc/sensorsys/alerts.properties";

// Every key the server reads. Adding a key is one entry here: --help, the unknown-key check and
// the test of etc/server.properties follow.
constexpr ConfigKey kKeys[] = {
    stringKey("http.bind", "127.0.0.1", "address to listen on (the server sits behind nginx)",
              true),
    integerKey("http.port", "8000", "TCP port; 0 picks a free one (logged at start-up)", 0, 65535),
    integerKey("http.min_threads", "4", "request threads kept when idle", 1, 100000),
    integerKey("http.max_threads", "1024",
               "request threads at most; POCO holds one thread per connection for its whole "
               "life, keep-alive included, so this bounds the concurrent connections served",
               1, 100000),
    integerKey("http.backlog", "1024", "listen(2) backlog", 1, 65535),
    booleanKey("http.keep_alive", "true", "allow persistent connections"),
    integerKey("http.keep_alive_timeout", "15", "seconds an idle keep-alive connection is kept", 1,
               3600),
    integerKey("http.max_keep_alive_requests", "0", "requests per connection, 0 = unlimited", 0,
               1000000000),
    integerKey("http.timeout", "30", "seconds a new connection may take to start its first request",
               1, 3600),
    integerKey("http.drain_timeout", "10", "seconds SIGTERM waits for in-flight requests", 0, 3600),
    integerKey("http.header_timeout", "10",
               "seconds a request's whole header section may take (408)", 1, 3600),
    integerKey("http.min_body_rate", "1024",
               "bytes/s a request body must keep up after http.header_timeout of grace, else cut",
               1, 1000000000),
    integerKey("http.send_timeout", "30", "seconds each send of a response may take, else cut", 1,
               3600),
    integerKey(
        "http.max_connections", "4096",
        "open connections at most (idle ones wait without a thread); more are closed at once", 1,
        1000000),
    stringKey("http.www_dir", SENSORSYS_WWW_DIR,
              "folder of the dashboard's files served at / (default: share/sensorsys/www of the "
              "server's install prefix; empty or missing: no dashboard, the API is unaffected)"),
    stringKey("http.www_root", "",
              "the former name of http.www_dir, still read when http.www_dir is not set"),
    stringKey("http.chartjs_path", "/usr/share/javascript/chart.js/chart.min.js",
              "Chart.js file served at /vendor/chart.js (Debian's libjs-chart.js)"),
    stringKey("database.connection", "host=127.0.0.1 port=5432 dbname=sensorsys user=sensorsys",
              "libpq connection string (key=value pairs separated by spaces; no URIs)", true),
    integerKey("database.pool_size", "8", "PostgreSQL connections at most", 1, 1000),
    stringKey("database.read_connection", "",
              "libpq connection string of a streaming replica for the read routes (empty: "
              "every read on database.connection; see docs/replica-reads.md)"),
    integerKey("database.read_pool_size", "0",
               "replica connections at most (0: as many as database.pool_size)", 0, 1000),
    integerKey("database.pool_wait_ms", "2000",
               "how long a request waits for a free connection before it gets 503 + Retry-After", 0,
               600000),
    integerKey("database.connect_timeout", "5", "seconds to wait for a new PostgreSQL connection",
               1, 600),
    booleanKey("database.migrate_on_start", "true", "apply pending migrations at start-up"),
    partitionIntervalKey(),
    integerKey("database.maintenance_interval_ms", "60000",
               "how often partitions are made ahead and retention is applied", 0, 86400000),
    integerKey("database.migrate_batch_rows", "10000",
               "rows of a table from before partitioning moved per transaction", 1, 10000000),
    integerKey("retention.days", "0",
               "drop the partitions of readings older than this many days (0: keep everything)", 0,
               1000000),
    booleanKey("retention.rollups", "false",
               "with retention.days, delete the rollups of dropped readings too (else the "
               "history stays)"),
    booleanKey("auth.enabled", "true", "require Bearer tokens (see `sensorsys-server token`)"),
    integerKey("auth.cache_seconds", "5",
               "seconds a verified token is trusted without asking the database (revocation "
               "delay)",
               0, 86400),
    integerKey("limits.max_body_bytes", "16777216",
               "request body limit in bytes, enforced while reading and after gzip inflation "
               "(413)",
               1024, 4294967296.0),
    integerKey("limits.max_batch", "10000", "readings per bulk request at most (413)", 1, 1000000),
    integerKey("limits.max_page", "10000", "largest `limit` accepted by GET /readings", 1, 1000000),
    integerKey("limits.max_future", "86400",
               "seconds a reading's ts_utc may be ahead of the server's clock (further: 422)", 0,
               315360000),
    integerKey("limits.stream_page_rows", "1000",
               "rows fetched per round trip while streaming GET /readings without limit", 1,
               100000),
    integerKey("limits.series_points", "10000",
               "buckets per series at most in GET /readings/series (`points` and `step`)", 10,
               1000000),
    integerKey("limits.export_rows", "0",
               "rows one GET /readings/export writes at most (0: no limit)", 0, 1e12),
    integerKey("history.rollup_interval_ms", "1000",
               "how often the rollup worker looks for readings to roll up", 50, 600000),
    integerKey("limits.live_clients", "1000",
               "live clients (GET /live, GET /readings/stream) at most; more get 503", 1, 1000000),
    integerKey("limits.live_queue", "1000",
               "messages queued for a live client that does not read; over it the client is "
               "closed (WebSocket 1013)",
               1, 1000000),
    integerKey("limits.live_replay", "10000",
               "readings a live client resuming with since= gets from the database before a gap "
               "message",
               1, 1000000),
    stringKey("alerts.file", kDefaultAlertsFile,
              "alert rules and receivers (reloaded on SIGHUP); the default file may be missing "
              "(no rules), a file named otherwise must exist",
              true),
    alertDurationKey("alerts.late_after", "2m",
                     "a reading received this long after its ts_utc is late: episodes over "
                     "before the device caught up are summarised, not paged"),
    alertDurationKey("alerts.backoff_max", "5m",
                     "longest wait between retries of an alert notification (from 1s, doubling)"),
    logLevelKey(),
    booleanKey("logging.requests", "true",
               "one log line per request (method, path, status, ms, bytes)"),
};

int intKey(const Poco::Util::AbstractConfiguration& c, std::string_view key) {
    return static_cast<int>(configKeys().integer(c, key));
}

std::chrono::milliseconds alertDurationOf(const Poco::Util::AbstractConfiguration& c,
                                          std::string_view key) {
    return *parseAlertDuration(configKeys().text(c, key));
}

void loadAlerts(const Poco::Util::AbstractConfiguration& c, ServerConfig& s) {
    s.alertsFile = configKeys().text(c, "alerts.file");
    s.alertsFileRequired = s.alertsFile != kDefaultAlertsFile;
    s.alerts.lateAfter = alertDurationOf(c, "alerts.late_after");
    s.alerts.backoffMax = alertDurationOf(c, "alerts.backoff_max");
    if (s.alerts.backoffMax.count() == 0)
        refuse("alerts.backoff_max", configKeys().text(c, "alerts.backoff_max"),
               "must be more than 0");
    s.alertRules = loadAlertRules(s.alertsFile, s.alertsFileRequired);
}

}  // namespace

const config::KeyTable& configKeys() {
    static const config::KeyTable keys(kKeys);
    return keys;
}

ServerConfig ServerConfig::load(const Poco::Util::AbstractConfiguration& c) {
    const auto& keys = configKeys();
    keys.refuseUnknown(c);
    ServerConfig s;
    s.bind = keys.text(c, "http.bind");
    s.port = intKey(c, "http.port");
    s.minThreads = intKey(c, "http.min_threads");
    s.maxThreads = intKey(c, "http.max_threads");
    if (s.maxThreads < s.minThreads) {
        refuse("http.max_threads", std::to_string(s.maxThreads),
               "must be at least http.min_threads (" + std::to_string(s.minThreads) + ")");
    }
    s.backlog = intKey(c, "http.backlog");
    s.keepAlive = keys.boolean(c, "http.keep_alive");
    s.keepAliveTimeoutSeconds = intKey(c, "http.keep_alive_timeout");
    s.maxKeepAliveRequests = intKey(c, "http.max_keep_alive_requests");
    s.socketTimeoutSeconds = intKey(c, "http.timeout");
    s.drainTimeoutSeconds = intKey(c, "http.drain_timeout");
    s.headerTimeoutSeconds = intKey(c, "http.header_timeout");
    s.minBodyRate = intKey(c, "http.min_body_rate");
    s.sendTimeoutSeconds = intKey(c, "http.send_timeout");
    s.maxConnections = intKey(c, "http.max_connections");
    const std::string formerWwwKey = keys.text(c, "http.www_root");
    s.wwwDir =
        c.has("http.www_dir") || formerWwwKey.empty() ? keys.text(c, "http.www_dir") : formerWwwKey;
    s.chartJsPath = keys.text(c, "http.chartjs_path");
    s.databaseConnection = keys.text(c, "database.connection");
    s.poolSize = intKey(c, "database.pool_size");
    s.readConnection = keys.text(c, "database.read_connection");
    s.readPoolSize = intKey(c, "database.read_pool_size");
    s.poolWaitMillis = intKey(c, "database.pool_wait_ms");
    s.connectTimeoutSeconds = intKey(c, "database.connect_timeout");
    s.migrateOnStart = keys.boolean(c, "database.migrate_on_start");
    s.partitions.interval = keys.text(c, "database.partition_interval");
    s.partitions.retentionDays = intKey(c, "retention.days");
    s.partitions.retentionRollups = keys.boolean(c, "retention.rollups");
    s.partitions.moveBatchRows = intKey(c, "database.migrate_batch_rows");
    s.maintenanceIntervalMillis = intKey(c, "database.maintenance_interval_ms");
    s.authEnabled = keys.boolean(c, "auth.enabled");
    s.authCacheSeconds = intKey(c, "auth.cache_seconds");
    s.maxBodyBytes = keys.integer(c, "limits.max_body_bytes");
    s.maxBatch = intKey(c, "limits.max_batch");
    s.maxPageRows = intKey(c, "limits.max_page");
    s.maxFutureSeconds = keys.integer(c, "limits.max_future");
    s.streamPageRows = intKey(c, "limits.stream_page_rows");
    s.seriesPoints = intKey(c, "limits.series_points");
    s.exportRows = keys.integer(c, "limits.export_rows");
    s.rollupIntervalMillis = intKey(c, "history.rollup_interval_ms");
    s.liveClients = intKey(c, "limits.live_clients");
    s.liveQueue = intKey(c, "limits.live_queue");
    s.liveReplay = intKey(c, "limits.live_replay");
    loadAlerts(c, s);
    s.logLevel = *SeedLogFormatter::priorityOf(Poco::toLower(keys.text(c, "logging.level")));
    s.logRequests = keys.boolean(c, "logging.requests");
    return s;
}

}  // namespace sensorsys::server
