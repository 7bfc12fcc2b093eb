// A crashing plugin beside two healthy ones for 60 s with plugins.isolation = process: the
// healthy sensors are stored at every tick, the crashing one's host is restarted with
// exponential backoff (1, 2, 4, 8, 16, 32 s), and the agent itself runs on throughout.
#include <signal.h>

#include <filesystem>
#include <thread>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using namespace Poco::Data::Keywords;

TEST(PluginHostSoak, CrashingPluginIsRestartedWithBackoffWhileHealthyOnesStoreEveryTick) {
    TempDir plugins;
    TempDir work;
    fs::copy_file(fs::path(SENSORSYS_FIXTURE_PLUGIN_DIR) / "misbehaving.so",
                  plugins.path() / "misbehaving.so");
    fs::copy_file(fs::path(SENSORSYS_FIXTURE_PLUGIN_DIR) / "example_c.so",
                  plugins.path() / "example_c.so");
    writeFile(work / "agent.properties",
              "plugins.isolation = process\nagent.interval = 0.5\nagent.read_timeout = 0.4\n"
              "sensors = boom, fine1, fine2\nsensor.boom.plugin = misbehaving\n"
              "sensor.boom.mode = segv\nsensor.fine1.plugin = example_c\n"
              "sensor.fine2.plugin = example_c\nsync.url = http://127.0.0.1:9\nstore.path = " +
                  (work / "buffer.db").string() +
                  "\nagent.status_file = " + (work / "status.json").string() + "\n");
    Background agent({SENSORSYS_AGENT_BINARY, "--define", "plugins.dir=" + plugins.path().string(),
                      "--config", (work / "agent.properties").string()},
                     work / "agent");
    const int pid = agent.pid();
    std::this_thread::sleep_for(std::chrono::seconds(60));
    ASSERT_TRUE(agent.running()) << agent.err();
    const auto status = Poco::JSON::Parser()
                            .parse(readFile(work / "status.json"))
                            .extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(status->getValue<int>("pid"), pid) << "the agent was restarted";
    const int restarts = status->getObject("host_restarts")->getValue<int>("boom");
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10)), 0) << agent.err();

    // Backoff 1+2+4+8+16 s: five restarts fit in 60 s, a sixth only after 63 s.
    EXPECT_GE(restarts, 4);
    EXPECT_LE(restarts, 6);
    EXPECT_THAT(agent.err(), ::testing::HasSubstr("plugin host crashed (SIGSEGV) during read of "
                                                  "sensor 'boom' (plugin file " +
                                                  (plugins.path() / "misbehaving.so").string() +
                                                  "); restart 5 in 16 s"));

    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session db("SQLite", (work / "buffer.db").string());
    int readings = 0;
    int healthy = 0;
    db << "SELECT count(*) FROM readings", into(readings), now;
    db << "SELECT count(*) FROM readings WHERE json_extract(payload, '$.fine1.value') = 42 AND "
          "json_extract(payload, '$.fine2.value') = 42",
        into(healthy), now;
    EXPECT_GE(readings, 110);  // 120 ticks in 60 s at 2 Hz, minus the start
    EXPECT_EQ(healthy, readings);
}

}  // namespace
}  // namespace sensorsys::test
