#include "server_config.h"

#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include <sensorsys/common/seed_log_formatter.hpp>

namespace sensorsys::server {

const std::vector<ConfigKey>& configKeys() {
    static const std::vector<ConfigKey> keys = {
        {"http.bind", "127.0.0.1", "address to listen on (the server sits behind nginx)"},
        {"http.port", "8000", "TCP port; 0 picks a free one (logged at start-up)"},
        {"http.min_threads", "4", "request threads kept when idle"},
        {"http.max_threads", "1024",
         "request threads at most: the requests served at once (waiting connections hold no "
         "thread)"},
        {"http.backlog", "1024", "listen(2) backlog"},
        {"http.keep_alive", "true", "allow persistent connections"},
        {"http.keep_alive_timeout", "15", "seconds an idle keep-alive connection is kept"},
        {"http.max_keep_alive_requests", "0", "requests per connection, 0 = unlimited"},
        {"http.timeout", "30", "seconds a new connection may take to start its first request"},
        {"http.drain_timeout", "10", "seconds SIGTERM waits for in-flight requests"},
        {"http.header_timeout", "10", "seconds a request's whole header section may take (408)"},
        {"http.min_body_rate", "1024",
         "bytes/s a request body must keep up after http.header_timeout of grace, else cut"},
        {"http.send_timeout", "30", "seconds each send of a response may take, else cut"},
        {"http.max_connections", "4096",
         "open connections at most (idle ones wait without a thread); more are closed at once"},
        {"database.connection", "host=127.0.0.1 port=5432 dbname=sensorsys user=sensorsys",
         "libpq connection string (key=value pairs separated by spaces; no URIs)"},
        {"database.pool_size", "8", "PostgreSQL connections at most"},
        {"database.pool_wait_ms", "2000",
         "how long a request waits for a free connection before it gets 503 + Retry-After"},
        {"database.connect_timeout", "5", "seconds to wait for a new PostgreSQL connection"},
        {"database.migrate_on_start", "true", "apply pending migrations at start-up"},
        {"auth.enabled", "true", "require Bearer tokens (see `sensorsys-server token`)"},
        {"auth.cache_seconds", "5",
         "seconds a verified token is trusted without asking the database (revocation delay)"},
        {"limits.max_body_bytes", "16777216",
         "request body limit in bytes, enforced while reading and after gzip inflation (413)"},
        {"limits.max_batch", "10000", "readings per bulk request at most (413)"},
        {"limits.max_page", "10000", "largest `limit` accepted by GET /readings"},
        {"limits.stream_page_rows", "1000",
         "rows fetched per round trip while streaming GET /readings without limit"},
        {"logging.level", "info",
         "least severe level logged: debug, info, warning, error or critical (the agent's "
         "names; POCO's trace, notice, information and fatal are accepted too)"},
        {"logging.requests", "true", "one log line per request (method, path, status, ms, bytes)"},
    };
    return keys;
}

namespace {

std::string raw(const Poco::Util::AbstractConfiguration& c, const std::string& key) {
    for (const auto& k : configKeys()) {
        if (key == k.name) return Poco::trim(c.getString(key, k.defaultValue));
    }
    return Poco::trim(c.getString(key, ""));
}

int intKey(const Poco::Util::AbstractConfiguration& c, const std::string& key, int min, int max) {
    const std::string v = raw(c, key);
    int value = 0;
    if (!Poco::NumberParser::tryParse(v, value) || value < min || value > max) {
        throw ConfigError("configuration key " + key + " = '" + v + "': an integer from " +
                          std::to_string(min) + " to " + std::to_string(max) + " is allowed");
    }
    return value;
}

bool boolKey(const Poco::Util::AbstractConfiguration& c, const std::string& key) {
    const std::string v = Poco::toLower(raw(c, key));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    throw ConfigError("configuration key " + key + " = '" + v + "': true or false is allowed");
}

}  // namespace

ServerConfig ServerConfig::load(const Poco::Util::AbstractConfiguration& c) {
    ServerConfig s;
    s.bind = raw(c, "http.bind");
    if (s.bind.empty()) throw ConfigError("configuration key http.bind: an address is required");
    s.port = intKey(c, "http.port", 0, 65535);
    s.minThreads = intKey(c, "http.min_threads", 1, 100000);
    s.maxThreads = intKey(c, "http.max_threads", s.minThreads, 100000);
    s.backlog = intKey(c, "http.backlog", 1, 65535);
    s.keepAlive = boolKey(c, "http.keep_alive");
    s.keepAliveTimeoutSeconds = intKey(c, "http.keep_alive_timeout", 1, 3600);
    s.maxKeepAliveRequests = intKey(c, "http.max_keep_alive_requests", 0, 1000000000);
    s.socketTimeoutSeconds = intKey(c, "http.timeout", 1, 3600);
    s.drainTimeoutSeconds = intKey(c, "http.drain_timeout", 0, 3600);
    s.headerTimeoutSeconds = intKey(c, "http.header_timeout", 1, 3600);
    s.minBodyRate = intKey(c, "http.min_body_rate", 1, 1000000000);
    s.sendTimeoutSeconds = intKey(c, "http.send_timeout", 1, 3600);
    s.maxConnections = intKey(c, "http.max_connections", 1, 1000000);
    s.databaseConnection = raw(c, "database.connection");
    if (s.databaseConnection.empty())
        throw ConfigError(
            "configuration key database.connection: a libpq connection string is required");
    s.poolSize = intKey(c, "database.pool_size", 1, 1000);
    s.poolWaitMillis = intKey(c, "database.pool_wait_ms", 0, 600000);
    s.connectTimeoutSeconds = intKey(c, "database.connect_timeout", 1, 600);
    s.migrateOnStart = boolKey(c, "database.migrate_on_start");
    s.authEnabled = boolKey(c, "auth.enabled");
    s.authCacheSeconds = intKey(c, "auth.cache_seconds", 0, 86400);
    const std::string body = raw(c, "limits.max_body_bytes");
    Poco::Int64 bodyBytes = 0;
    if (!Poco::NumberParser::tryParse64(body, bodyBytes) || bodyBytes < 1024 ||
        bodyBytes > (Poco::Int64(1) << 32)) {
        throw ConfigError("configuration key limits.max_body_bytes = '" + body +
                          "': an integer from 1024 to 4294967296 is allowed");
    }
    s.maxBodyBytes = bodyBytes;
    s.maxBatch = intKey(c, "limits.max_batch", 1, 1000000);
    s.maxPageRows = intKey(c, "limits.max_page", 1, 1000000);
    s.streamPageRows = intKey(c, "limits.stream_page_rows", 1, 100000);
    const std::string level = Poco::toLower(raw(c, "logging.level"));
    const auto priority = SeedLogFormatter::priorityOf(level);
    if (!priority) {
        throw ConfigError("configuration key logging.level = '" + level +
                          "': debug, info, warning, error or critical is allowed");
    }
    s.logLevel = *priority;
    s.logRequests = boolKey(c, "logging.requests");
    return s;
}

}  // namespace sensorsys::server
