// The sensorsys-server binary with database.read_connection on a real streaming replica
// (pg_basebackup -R of a private primary): reads go to the replica, fall back to the primary
// while it is down and return to it once it is back, without a restart. The primary, the
// replica and the server are started once for the binary (ctest runs it as one test).
#include "pg_test_cluster.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using sensorsys::server::testing::call;
using sensorsys::server::testing::readingJson;
using sensorsys::server::testing::uuidFor;
using sensorsys::test::eventually;
using sensorsys::test::PrivateCluster;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;

constexpr const char* kRange = "start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z";

// The primary, its replica and the server on them, for every test of the binary.
struct ReplicaSetup {
    ReplicaSetup()
        : primary(SENSORSYS_REPLICA_PRIMARY_INFO),
          replica(SENSORSYS_REPLICA_INFO, primary),
          port(sensorsys::test::freePort()) {
        const std::string config =
            "database.connection = " + sensorsys::test::clusterConnection(primary.infoFile()) +
            "\ndatabase.read_connection = " +
            sensorsys::test::clusterConnection(replica.infoFile()) +
            "\ndatabase.pool_size = 4\ndatabase.read_pool_size = 2\ndatabase.connect_timeout = 2"
            "\nhttp.port = " +
            std::to_string(port) +
            // Streamed GET /readings (no limit) takes several pages.
            "\nauth.enabled = false\nlimits.stream_page_rows = 2\nlimits.max_future = 315360000"
            "\nlogging.requests = false\nalerts.file = " +
            (dir / "alerts.properties").string() + "\n";
        sensorsys::test::writeFile(dir / "alerts.properties", "");
        sensorsys::test::writeFile(dir / "server.properties", config);
        server = sensorsys::test::startHealthyServer(
            {SENSORSYS_SERVER_BINARY, "--config", (dir / "server.properties").string()},
            dir / "server", port);
    }
    ~ReplicaSetup() {
        if (server) server->stop(SIGTERM, 10s);
    }

    PrivateCluster primary;
    PrivateCluster replica;
    sensorsys::test::TempDir dir;
    int port;
    std::unique_ptr<sensorsys::test::Background> server;
};

class ReplicaReads : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { setup = std::make_unique<ReplicaSetup>(); }
    static void TearDownTestSuite() { setup.reset(); }

    void SetUp() override {
        ASSERT_TRUE(setup->server && setup->server->running()) << setup->server->err();
    }
    void TearDown() override {
        if (HasFailure()) std::cerr << "server stderr:\n" << setup->server->err() << "\n";
    }

    static int port() { return setup->port; }

    // A sample of /metrics (0 when the line is missing).
    static double metric(const std::string& name) {
        const auto [status, text] = sensorsys::test::httpGet(port(), "/metrics");
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind(name + " ", 0) == 0)
                return std::strtod(line.c_str() + name.size(), nullptr);
        }
        return 0;
    }
    static double replicaReads() { return metric("sensorsys_db_replica_reads_total"); }
    static double fallbacks() { return metric("sensorsys_db_read_fallbacks_total"); }

    // Readings of device in GET /readings (streamed: no limit); -1 when not 200.
    static int readingsOf(const std::string& device) {
        const auto reply =
            call(port(), "GET", std::string("/readings?") + kRange + "&device_id=" + device);
        if (reply.status != 200) return -1;
        return static_cast<int>(
            Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Array::Ptr>()->size());
    }

    // Readings from..from+count-1 of device; reading ids from idBase + from (unique per test).
    static void post(const std::string& device, int idBase, int from, int count) {
        std::string body = "{\"readings\": [";
        for (int i = 0; i < count; ++i) {
            if (i) body += ", ";
            body += readingJson(device, from + i, uuidFor(idBase + from + i));
        }
        const auto reply = call(port(), "POST", "/readings/bulk", body + "]}");
        ASSERT_EQ(reply.status, 200) << reply.body;
    }

    // Client sessions on the replica other than the asking one: the server's.
    static int serverSessionsOnReplica() {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        Poco::Data::Session s("PostgreSQL",
                              sensorsys::test::clusterConnection(setup->replica.infoFile()));
        int n = 0;
        s << "SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend'"
             " AND pid <> pg_backend_pid()",
            into(n), now;
        return n;
    }

    static std::unique_ptr<ReplicaSetup> setup;
};

std::unique_ptr<ReplicaSetup> ReplicaReads::setup;

// The replica is paused for a test and started again however the test ends.
struct ReplicaPaused {
    explicit ReplicaPaused(PrivateCluster& replica) : _replica(replica) { _replica.pause(); }
    ~ReplicaPaused() { resume(); }
    void resume() {
        if (_paused) _replica.resume();
        _paused = false;
    }

  private:
    PrivateCluster& _replica;
    bool _paused = true;
};

TEST_F(ReplicaReads, PostedReadingsAppearOnTheReplicaAndReadsAreServedThere) {
    const double before = replicaReads();
    // Each reading alone, timed from the POST's answer to the first GET that shows it: the
    // replication lag a reader sees (printed; docs/replica-reads.md quotes it).
    std::vector<double> lagMillis;
    for (int i = 0; i < 20; ++i) {
        post("rp-lag", 0, i, 1);
        const auto posted = std::chrono::steady_clock::now();
        // Polled back to back, not every 50 ms as eventually() does: the lag is milliseconds.
        const auto deadline = posted + 10s;
        while (readingsOf("rp-lag") != i + 1 && std::chrono::steady_clock::now() < deadline) {
        }
        ASSERT_EQ(readingsOf("rp-lag"), i + 1) << i;
        lagMillis.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - posted)
                .count());
    }
    std::sort(lagMillis.begin(), lagMillis.end());
    std::cout << "visible on the replica after (ms, 20 POSTs): min " << lagMillis.front()
              << " median " << lagMillis[lagMillis.size() / 2] << " max " << lagMillis.back()
              << "\n";
    EXPECT_GT(replicaReads(), before);
    EXPECT_EQ(fallbacks(), 0);
    EXPECT_GT(serverSessionsOnReplica(), 0);
    // The replay lag gauge is measured (a number, not NaN) while the replica answers.
    EXPECT_TRUE(eventually(
        [] {
            const double lag = metric("sensorsys_db_replica_replay_lag_seconds");
            return lag == lag && lag >= 0;
        },
        10s));
}

TEST_F(ReplicaReads, EveryReadRouteAnswersFromThePrimaryWhileTheReplicaIsDown) {
    post("rp-down", 100, 0, 5);
    ASSERT_TRUE(eventually([] { return readingsOf("rp-down") == 5; }, 10s));
    const double fallbacksBefore = fallbacks();
    const double replicaBefore = replicaReads();
    ReplicaPaused paused(setup->replica);

    EXPECT_EQ(readingsOf("rp-down"), 5);
    const auto page =
        call(port(), "GET", std::string("/readings?") + kRange + "&device_id=rp-down&limit=2");
    EXPECT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.header("Link"), "");
    const auto latest = call(port(), "GET", "/readings/latest?device_id=rp-down");
    EXPECT_EQ(latest.status, 200) << latest.body;
    EXPECT_NE(latest.body.find("rp-down"), std::string::npos);
    const auto series = call(
        port(), "GET",
        std::string("/readings/series?device_id=rp-down&metric=n&") + kRange + "&step=1h&tz=UTC");
    EXPECT_EQ(series.status, 200) << series.body;
    EXPECT_NE(series.body.find("\"count\": 5"), std::string::npos) << series.body;
    const auto devices = call(port(), "GET", "/devices");
    EXPECT_EQ(devices.status, 200) << devices.body;
    EXPECT_NE(devices.body.find("rp-down"), std::string::npos) << devices.body;
    const auto exported = call(
        port(), "GET", std::string("/readings/export?format=ndjson&device_id=rp-down&") + kRange);
    EXPECT_EQ(exported.status, 200) << exported.body;
    EXPECT_NE(exported.body.find("rp-down"), std::string::npos) << exported.body;
    // A write during the outage is answered by the primary as always.
    post("rp-down", 100, 5, 1);
    EXPECT_EQ(readingsOf("rp-down"), 6);

    EXPECT_GE(fallbacks(), fallbacksBefore + 5);
    EXPECT_EQ(replicaReads(), replicaBefore);
    // One warning for the outage, not one per read.
    const std::string err = setup->server->err();
    std::size_t warnings = 0;
    for (auto at = err.find("read replica unavailable"); at != std::string::npos;
         at = err.find("read replica unavailable", at + 1))
        ++warnings;
    EXPECT_GE(warnings, 1u);
    EXPECT_LE(warnings, 3u) << err;
}

TEST_F(ReplicaReads, ReadsReturnToTheReplicaOnceItIsBackWithoutARestart) {
    const int pid = setup->server->pid();
    ReplicaPaused paused(setup->replica);
    post("rp-back", 200, 0, 3);  // the replica catches up on it when it is back
    EXPECT_EQ(readingsOf("rp-back"), 3);
    const double fallbacksDown = fallbacks();
    EXPECT_GT(fallbacksDown, 0);
    paused.resume();

    const double replicaBefore = replicaReads();
    // The replica is asked again after its rest (seconds): poll, do not sleep.
    ASSERT_TRUE(eventually(
        [&] { return readingsOf("rp-back") == 3 && replicaReads() > replicaBefore; }, 20s));
    const double fallbacksUp = fallbacks();
    post("rp-back", 200, 3, 1);
    ASSERT_TRUE(eventually([] { return readingsOf("rp-back") == 4; }, 10s));
    EXPECT_EQ(fallbacks(), fallbacksUp);
    EXPECT_GT(serverSessionsOnReplica(), 0);
    EXPECT_EQ(setup->server->pid(), pid);
    EXPECT_TRUE(setup->server->running());
}

}  // namespace
