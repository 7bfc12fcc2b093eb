// An in-process sensorsys-server on 127.0.0.1 (free port) over a fresh database of the test
// cluster, and a small HTTP client for the tests.
#pragma once

#include "http_server.hpp"
#include "pg_test_cluster.hpp"
#include "server_config.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sensorsys::server::testing {

inline Poco::Logger& quietLogger() {
    Poco::Logger& log = Poco::Logger::get("sensorsys-server-test");
    log.setLevel("error");
    return log;
}

class TestServer {
  public:
    explicit TestServer(const std::function<void(ServerConfig&)>& tweak = {},
                        const std::string& infoFile = SENSORSYS_PG_INFO_FILE)
        : db(infoFile) {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        config.port = 0;
        config.databaseConnection = db.connection();
        config.authEnabled = false;
        config.logRequests = false;
        config.poolSize = 4;
        config.drainTimeoutSeconds = 2;
        config.minThreads = 2;
        config.maxThreads = 64;
        // The API tests date their readings in 2030: far ahead of the server's clock.
        config.maxFutureSeconds = 10LL * 365 * 86400;
        if (tweak) tweak(config);
        server = std::make_unique<ApiServer>(config, quietLogger());
        server->start();
    }
    ~TestServer() { server->stop(); }

    int port() const { return server->port(); }

    sensorsys::test::TemporaryDatabase db;
    ServerConfig config;
    std::unique_ptr<ApiServer> server;
};

struct HttpReply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names

    std::string header(const std::string& name) const {
        auto it = headers.find(Poco::toLower(name));
        return it == headers.end() ? "" : it->second;
    }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline HttpReply call(Poco::Net::HTTPClientSession& session, const std::string& method,
                      const std::string& target, const std::string& body = "",
                      const HeaderList& headers = {}) {
    Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    bool hasType = false;
    for (const auto& [k, v] : headers) {
        request.set(k, v);
        if (Poco::icompare(k, "Content-Type") == 0) hasType = true;
    }
    if (!body.empty() || method == "POST") {
        if (!hasType) request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    auto& out = session.sendRequest(request);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse response;
    auto& in = session.receiveResponse(response);
    HttpReply reply;
    reply.status = response.getStatus();
    Poco::StreamCopier::copyToString(in, reply.body);
    for (const auto& [k, v] : response) reply.headers[Poco::toLower(k)] = v;
    return reply;
}

inline HttpReply call(int port, const std::string& method, const std::string& target,
                      const std::string& body = "", const HeaderList& headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(30, 0));
    return call(session, method, target, body, headers);
}

// A seed-shaped reading with a reading_id, as JSON text.
inline std::string readingJson(const std::string& device, int minute,
                               const std::string& readingId = "",
                               const std::string& offset = "+01:00") {
    char utc[64], local[64];
    std::snprintf(utc, sizeof utc, "2030-01-01T10:%02d:00Z", minute % 60);
    std::snprintf(local, sizeof local, "2030-01-01T11:%02d:00%s", minute % 60, offset.c_str());
    std::string s = "{\"device_id\": \"" + device + "\", \"ts_utc\": \"" + utc +
                    "\", \"ts_local\": \"" + local +
                    "\", \"payload\": {\"cpu_temp\": {\"c\": 48.3, \"f\": 118.94}, \"n\": " +
                    std::to_string(minute) + "}";
    if (!readingId.empty()) s += ", \"reading_id\": \"" + readingId + "\"";
    return s + "}";
}

inline std::string uuidFor(int n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0190f1c2-0000-7000-8000-%012d", n);
    return buf;
}

}  // namespace sensorsys::server::testing
