// The real agent hosting a plugin that attacks it (the attack modes of
// tests/fixtures/plugins/misbehaving.c): a slow create, reads that never return, a thread left
// behind, output on stdout, an error-buffer overrun, a crash. Each time the other sensors go
// on and the agent ends as documented.
#include <signal.h>

#include <filesystem>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

class HostilePlugin : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::copy_file(fs::path(SENSORSYS_FIXTURE_PLUGIN_DIR) / "misbehaving.so",
                      plugins.path() / "misbehaving.so");
        fs::copy_file(fs::path(SENSORSYS_FIXTURE_PLUGIN_DIR) / "example_c.so",
                      plugins.path() / "example_c.so");
    }

    // A configuration with the sensors `lines` define, its files in this test's folder.
    void configure(const std::string& lines) const {
        writeFile(
            work / "agent.properties",
            lines + "sync.url = http://127.0.0.1:9\nstore.path = " + (work / "buffer.db").string() +
                "\nagent.status_file = " + (work / "status.json").string() + "\n");
    }

    // Sensor `name` on the misbehaving plugin in `mode`, beside a healthy example_c "fine".
    void configureBesideFine(const std::string& name, const std::string& mode,
                             const std::string& extra = "") const {
        configure(extra + "sensors = " + name + ", fine\nsensor." + name +
                  ".plugin = misbehaving\nsensor." + name + ".mode = " + mode +
                  "\nsensor.fine.plugin = example_c\n");
    }

    std::vector<std::string> agentArgs(std::vector<std::string> args) const {
        args.insert(args.begin(), SENSORSYS_AGENT_BINARY);
        args.insert(args.end(), {"--define", "plugins.dir=" + plugins.path().string(), "--config",
                                 (work / "agent.properties").string()});
        return args;
    }

    // --once without a core file should the plugin crash it.
    ProcessResult once() const {
        std::vector<std::string> argv{"/bin/sh", "-c", "ulimit -c 0; exec \"$0\" \"$@\""};
        for (auto& arg : agentArgs({"--once"})) argv.push_back(arg);
        return run(argv);
    }

    Poco::JSON::Object::Ptr lastStatus() const {
        const auto status = run({SENSORSYS_AGENT_BINARY, "--status", "--json", "--config",
                                 (work / "agent.properties").string()});
        EXPECT_EQ(status.exit_code, 0) << status.err;
        return parseObject(status.out);
    }

    TempDir plugins;
    TempDir work;
};

TEST_F(HostilePlugin, SlowCreateDelaysOnlyItsOwnSensorAndSigtermStillEndsWithinTwoSeconds) {
    configureBesideFine("slow", "slow_create", "agent.interval = 0.5\nagent.read_timeout = 0.2\n");
    Background agent(agentArgs({}), work / "agent");
    std::this_thread::sleep_for(std::chrono::seconds(3));
    std::chrono::milliseconds took{};
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10), &took), 0) << agent.err();
    EXPECT_LT(took.count(), 2000) << "SIGTERM waited for the slow create";

    const auto root = lastStatus();
    // 3 s at 2 Hz: about 6 readings while the create is still running.
    EXPECT_GE(root->getValue<long long>("backlog"), 4);
    const auto sensors = root->getObject("agent")->getObject("sensors");
    EXPECT_EQ(sensors->getObject("fine")->getValue<int>("value"), 42);
    EXPECT_THAT(sensors->getObject("slow")->getValue<std::string>("error"),
                StartsWith("timeout: create of 'slow'"));
}

TEST_F(HostilePlugin, OnceGivesUpOnASlowCreateAtTheCreateTimeout) {
    configureBesideFine("slow", "slow_create",
                        "agent.create_timeout = 1\nagent.read_timeout = 1\n");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(r.elapsed.count(), 10'000) << "--once waited for the 30 s create";
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_THAT(payload->getObject("slow")->getValue<std::string>("error"),
                StartsWith("timeout: create of 'slow'"));
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42);
}

TEST_F(HostilePlugin, ReadingLoopStillExits78WhenACreateRefusesItsConfiguration) {
    configure(
        "agent.create_timeout = 1\nsensors = slow, x\n"
        "sensor.slow.plugin = misbehaving\nsensor.slow.mode = slow_create\n"
        "sensor.x.plugin = example_c\nsensor.x.reject = 1\n");
    const auto r = run(agentArgs({}), {}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_THAT(r.err, HasSubstr("sensor 'x' (plugin example_c)"));
}

TEST_F(HostilePlugin, SixtyFourHungInstancesNeverStarveAHealthyOne) {
    std::string lines = "agent.read_timeout = 0.5\nsensors = ";
    std::string instances;
    for (int i = 0; i < 64; ++i) {
        lines += "hung" + std::to_string(i) + ", ";
        instances += "sensor.hung" + std::to_string(i) + ".plugin = misbehaving\nsensor.hung" +
                     std::to_string(i) + ".mode = hang\n";
    }
    configure(lines + "fine\n" + instances + "sensor.fine.plugin = example_c\n");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42) << r.out;
    EXPECT_THAT(payload->getObject("hung63")->getValue<std::string>("error"),
                StartsWith("timeout"));
}

TEST_F(HostilePlugin, ThreadLeftRunningAfterDestroyNeverSpoilsTheExit) {
    configureBesideFine("leaky", "thread", "agent.interval = 0.2\n");
    const auto r = once();
    EXPECT_EQ(r.exit_code, 0) << r.err;

    Background agent(agentArgs({}), work / "agent");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10)), 0) << agent.err();
}

TEST_F(HostilePlugin, PluginPrintingToStdoutLeavesOnceOutputOneJsonDocument) {
    configureBesideFine("chatty", "print");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_TRUE(payload->getObject("chatty")->getValue<bool>("ok"));
    EXPECT_THAT(r.err, HasSubstr("misbehaving: debug output from read"));
}

TEST_F(HostilePlugin, ErrorBufferOverrunBecomesThatSensorsErrorNamingThePlugin) {
    configureBesideFine("bad", "overrun");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_THAT(payload->getObject("bad")->getValue<std::string>("error"),
                HasSubstr("plugin misbehaving (" + (plugins.path() / "misbehaving.so").string() +
                          ") wrote past the end of its 512-byte error buffer"));
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42);
}

TEST_F(HostilePlugin, AbortInAReadIsNamedByTheNextStart) {
    configureBesideFine("boom", "abort");
    const auto crashed = once();
    EXPECT_EQ(crashed.exit_code, 128 + SIGABRT) << crashed.err;

    configure("sensors = fine\nsensor.fine.plugin = example_c\n");
    const auto next = once();
    ASSERT_EQ(next.exit_code, 0) << next.err;
    EXPECT_THAT(next.err,
                HasSubstr("the agent died while sensor 'boom' (plugin file " +
                          (plugins.path() / "misbehaving.so").string() + ") was being read"));
    const auto after = once();
    EXPECT_THAT(after.err, ::testing::Not(HasSubstr("the agent died")));
}

TEST_F(HostilePlugin, SegfaultInAReadEndsTheAgentBySigsegvNotSigabrt) {
    configure("sensors = boom\nsensor.boom.plugin = misbehaving\nsensor.boom.mode = segv\n");
    const auto r = once();
    EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.err;
}

}  // namespace
}  // namespace sensorsys::test
