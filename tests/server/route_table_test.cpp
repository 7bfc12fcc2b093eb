// A new route is one table entry plus its handler: a table with one extra entry gets routing,
// 404/405 with Allow, HEAD, the auth scope check, the metric label and the name in the error
// log from that entry alone.
#include "route_table.hpp"
#include "server_fixture.hpp"
#include "token_store.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Message.h>

#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>

namespace sensorsys::server {
namespace {

using testing::call;
using testing::HttpReply;

// The test route: GET /echo answers who called and the device_id query parameter.
ApiResponse echo(ApiService&, const ApiRequest& request, const Principal& principal) {
    ApiResponse r;
    r.body = std::string("{\"scope\": \"") + scopeName(principal.scope) + "\", \"device_id\": \"" +
             request.deviceId.value_or("") + "\"}";
    return r;
}

RouteTable withEcho() {
    RouteTable routes = apiRoutes();
    routes.add({"GET", "/echo", Route{"echo"}, Access::Read, &echo, &readLatestQuery});
    routes.add({"GET", "/boom", Route{"boom"}, Access::Open,
                [](ApiService&, const ApiRequest&, const Principal&) -> ApiResponse {
                    throw std::runtime_error("handler failed");
                }});
    return routes;
}

const RequestLimits kLimits{1024 * 1024, 100, 100};

TEST(RouteTable, AnExtraEntryIsRoutedWithItsNameAndReader) {
    EXPECT_EQ(parseRequest(apiRoutes(), "GET", "/echo", {}, "", kLimits).error->status, 404);
    const RouteTable routes = withEcho();
    const ApiRequest r = parseRequest(routes, "GET", "/echo?device_id=pi%201", {}, "", kLimits);
    ASSERT_FALSE(r.error) << r.error->body();
    EXPECT_EQ(r.route, Route{"echo"});
    EXPECT_EQ(r.deviceId.value_or(""), "pi 1");
    const ApiRequest head = parseRequest(routes, "HEAD", "/echo", {}, "", kLimits);
    EXPECT_TRUE(head.head);
    EXPECT_EQ(head.route, Route{"echo"});
}

TEST(RouteTable, OtherMethodsOfTheEntrysPathGet405WithTheDerivedAllow) {
    const ApiRequest r = parseRequest(withEcho(), "POST", "/echo", {}, "", kLimits);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status, 405);
    ASSERT_EQ(r.error->headers.size(), 1u);
    EXPECT_EQ(r.error->headers[0].second, "GET, HEAD");
    RouteTable routes = withEcho();
    routes.add({"POST", "/echo", Route{"echo_post"}, Access::Write, &echo});
    EXPECT_EQ(routes.allow("/echo"), "GET, HEAD, POST");
    EXPECT_EQ(routes.routes().back(), Route{"echo_post"});
}

// Collects what the server logs (the service logs a failing handler under its route's name).
class CapturedLog : public Poco::Channel {
  public:
    void log(const Poco::Message& message) override {
        std::lock_guard lock(_mutex);
        _text += message.getText() + "\n";
    }
    std::string text() {
        std::lock_guard lock(_mutex);
        return _text;
    }

  private:
    std::mutex _mutex;
    std::string _text;
};

class ExtraRoute : public ::testing::Test {
  protected:
    ExtraRoute() : db(SENSORSYS_PG_INFO_FILE) {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        config.port = 0;
        config.databaseConnection = db.connection();
        config.authEnabled = true;
        config.authCacheSeconds = 0;
        config.logRequests = false;
        config.poolSize = 2;
        config.drainTimeoutSeconds = 2;
        config.minThreads = 2;
        config.maxThreads = 16;
        server = std::make_unique<ApiServer>(config, testing::quietLogger(), withEcho());
        server->start();
        auto session = ConnectionPool::connect(db.connection(), 5);
        TokenStore tokens(session);
        device = tokens.create(Scope::Device, "pi-1");
        reader = tokens.create(Scope::Read, "");
    }
    ~ExtraRoute() override { server->stop(); }

    HttpReply as(const std::string& token, const std::string& method, const std::string& target) {
        return call(server->port(), method, target, "", {{"Authorization", "Bearer " + token}});
    }

    sensorsys::test::TemporaryDatabase db;
    ServerConfig config;
    std::unique_ptr<ApiServer> server;
    std::string device, reader;
};

TEST_F(ExtraRoute, TheEntrysScopeDecidesWhoMayCallIt) {
    EXPECT_EQ(call(server->port(), "GET", "/echo").status, 401);
    const auto ok = as(reader, "GET", "/echo?device_id=pi-7");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "{\"scope\": \"read\", \"device_id\": \"pi-7\"}");
    const auto refused = as(device, "GET", "/echo");
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(refused.body.find("\"route\": \"echo\""), std::string::npos) << refused.body;
    EXPECT_EQ(as(reader, "GET", "/echo?device_id=").status, 422);
}

TEST_F(ExtraRoute, HeadAnd405FollowFromTheEntry) {
    const auto head = as(reader, "HEAD", "/echo");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    const auto post = as(reader, "POST", "/echo");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
}

TEST_F(ExtraRoute, MetricsAndTheErrorLogNameTheRoute) {
    Poco::AutoPtr<CapturedLog> log(new CapturedLog);
    Poco::Logger& serverLog = Poco::Logger::get("sensorsys-server");
    Poco::AutoPtr<Poco::Channel> previous(serverLog.getChannel(), true);
    serverLog.setChannel(log);
    as(reader, "GET", "/echo");
    const auto boom = call(server->port(), "GET", "/boom");
    serverLog.setChannel(previous);
    EXPECT_EQ(boom.status, 500);
    EXPECT_NE(log->text().find("boom: handler failed"), std::string::npos) << log->text();
    const auto metrics = call(server->port(), "GET", "/metrics").body;
    EXPECT_NE(metrics.find("sensorsys_http_requests_total{route=\"echo\",status=\"200\"} 1"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("sensorsys_http_request_duration_seconds_count{route=\"boom\"} 1"),
              std::string::npos)
        << metrics;
}

}  // namespace
}  // namespace sensorsys::server
