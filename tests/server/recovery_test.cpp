// PostgreSQL goes away and comes back: the server answers 503 meanwhile and recovers without a
// restart. Uses a cluster of its own so the shared one keeps serving the other tests.
#include "server_fixture.h"

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

}  // namespace
}  // namespace sensorsys::server::testing
