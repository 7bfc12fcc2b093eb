// PostgreSQL goes away and comes back: the server answers 503 meanwhile and recovers without a
// restart. Uses a cluster of its own so the shared one keeps serving the other tests.
#include "server_fixture.hpp"

#include <Poco/Thread.h>

#include <gtest/gtest.h>
#include <unistd.h>

namespace sensorsys::server::testing {
namespace {

TEST(Recovery, DatabaseOutageGives503AndTheServerRecoversWhenItReturns) {
    sensorsys::test::PrivateCluster cluster(std::string(SENSORSYS_BINARY_DIR) +
                                            "/tests/server/recovery_" + std::to_string(::getpid()) +
                                            ".info");
    TestServer s([](ServerConfig& c) { c.connectTimeoutSeconds = 2; }, cluster.infoFile());
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("r", 1, uuidFor(1))).status, 201);

    cluster.pause();
    const auto health = call(s.port(), "GET", "/health");
    EXPECT_EQ(health.status, 503);
    EXPECT_NE(health.body.find("unreachable"), std::string::npos);
    const auto write = call(s.port(), "POST", "/readings", readingJson("r", 2, uuidFor(2)));
    EXPECT_EQ(write.status, 503) << write.body;
    EXPECT_FALSE(write.header("Retry-After").empty());

    cluster.resume();
    int status = 0;
    for (int attempt = 0; attempt < 300 && status != 200; ++attempt) {
        status = call(s.port(), "GET", "/health").status;
        if (status != 200) Poco::Thread::sleep(100);
    }
    ASSERT_EQ(status, 200);
    EXPECT_EQ(call(s.port(), "POST", "/readings", readingJson("r", 2, uuidFor(2))).status, 201);
    EXPECT_EQ(call(s.port(), "GET", "/readings/latest?device_id=r").status, 200);
}

TEST(Recovery, CachedStatementsFailingInAnOutageDoNotBringTheServerDown) {
    // No /health in between (it would drop the idle connections first): the writes themselves
    // meet the broken connections and their prepared statements. POCO 1.11 freed a failed
    // statement's result twice - the first write after PostgreSQL went away crashed the server.
    sensorsys::test::PrivateCluster cluster(std::string(SENSORSYS_BINARY_DIR) +
                                            "/tests/server/recovery_stmt_" +
                                            std::to_string(::getpid()) + ".info");
    TestServer s([](ServerConfig& c) { c.connectTimeoutSeconds = 2; }, cluster.infoFile());
    auto bulk = [&](int n) {
        return call(s.port(), "POST", "/readings/bulk",
                    "{\"readings\": [" + readingJson("r", n, uuidFor(n)) + "]}");
    };
    for (int n = 1; n <= 3; ++n) ASSERT_EQ(bulk(n).status, 200);
    ASSERT_EQ(call(s.port(), "GET", "/readings/latest?device_id=r").status, 200);

    cluster.pause();
    for (int n = 4; n <= 6; ++n) EXPECT_EQ(bulk(n).status, 503);
    EXPECT_EQ(call(s.port(), "GET", "/readings/latest?device_id=r").status, 503);
    cluster.resume();
    int status = 0;
    for (int attempt = 0; attempt < 300 && status != 200; ++attempt) {
        status = bulk(4).status;
        if (status != 200) Poco::Thread::sleep(100);
    }
    EXPECT_EQ(status, 200);
    for (int n = 5; n <= 6; ++n) EXPECT_EQ(bulk(n).status, 200);
    const auto latest = call(s.port(), "GET", "/readings/latest?device_id=r");
    EXPECT_EQ(latest.status, 200);
    EXPECT_NE(latest.body.find(uuidFor(6)), std::string::npos) << latest.body;
}

}  // namespace
}  // namespace sensorsys::server::testing
