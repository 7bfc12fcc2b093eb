// The real agent hosting a plugin that attacks it (the attack modes of
// tests/fixtures/plugins/misbehaving.c): a slow create, reads that never return, a thread left
// behind, output on stdout, an error-buffer overrun, a crash, a memory hog, changes to process
// state. Each time the other sensors go on and the agent ends as documented, in both
// plugins.isolation modes where the case applies to both.
#include <signal.h>
#include <sys/stat.h>

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

#ifdef SENSORSYS_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

class HostilePluginBase : public ::testing::Test {
  protected:
    explicit HostilePluginBase(std::string isolation) : isolation(std::move(isolation)) {}

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
            "plugins.isolation = " + isolation + "\n" + lines +
                "sync.url = http://127.0.0.1:9\nstore.path = " + (work / "buffer.db").string() +
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

    std::string isolation;
    TempDir plugins;
    TempDir work;
};

// Cases that hold in both modes.
class HostilePlugin : public HostilePluginBase, public ::testing::WithParamInterface<std::string> {
  protected:
    HostilePlugin() : HostilePluginBase(GetParam()) {}
};

INSTANTIATE_TEST_SUITE_P(Isolation, HostilePlugin, ::testing::Values("thread", "process"),
                         [](const auto& info) { return info.param; });

// plugins.isolation = thread: the plugin runs inside the agent.
class HostilePluginInThread : public HostilePluginBase {
  protected:
    HostilePluginInThread() : HostilePluginBase("thread") {}
};

// plugins.isolation = process: the plugin runs in a sensorsys-plugin-host of its own.
class HostilePluginInProcess : public HostilePluginBase {
  protected:
    HostilePluginInProcess() : HostilePluginBase("process") {}
};

TEST_P(HostilePlugin, SlowCreateDelaysOnlyItsOwnSensorAndSigtermStillEndsWithinTwoSeconds) {
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

TEST_P(HostilePlugin, OnceGivesUpOnASlowCreateAtTheCreateTimeout) {
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

TEST_P(HostilePlugin, ReadingLoopStillExits78WhenACreateRefusesItsConfiguration) {
    configure(
        "agent.create_timeout = 1\nsensors = slow, x\n"
        "sensor.slow.plugin = misbehaving\nsensor.slow.mode = slow_create\n"
        "sensor.x.plugin = example_c\nsensor.x.reject = 1\n");
    const auto r = run(agentArgs({}), {}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_THAT(r.err, HasSubstr("sensor 'x' (plugin example_c)"));
}

TEST_P(HostilePlugin, SixtyFourHungInstancesNeverStarveAHealthyOne) {
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

TEST_P(HostilePlugin, ThreadLeftRunningAfterDestroyNeverSpoilsTheExit) {
    configureBesideFine("leaky", "thread", "agent.interval = 0.2\n");
    const auto r = once();
    EXPECT_EQ(r.exit_code, 0) << r.err;

    Background agent(agentArgs({}), work / "agent");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10)), 0) << agent.err();
}

TEST_P(HostilePlugin, PluginPrintingToStdoutLeavesOnceOutputOneJsonDocument) {
    configureBesideFine("chatty", "print");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_TRUE(payload->getObject("chatty")->getValue<bool>("ok"));
    EXPECT_THAT(r.err, HasSubstr("misbehaving: debug output from read"));
}

TEST_P(HostilePlugin, ErrorBufferOverrunBecomesThatSensorsErrorNamingThePlugin) {
    configureBesideFine("bad", "overrun");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_THAT(payload->getObject("bad")->getValue<std::string>("error"),
                HasSubstr("plugin misbehaving (" + (plugins.path() / "misbehaving.so").string() +
                          ") wrote past the end of its 512-byte error buffer"));
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42);
}

TEST_F(HostilePluginInThread, AbortInAReadIsNamedByTheNextStart) {
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

TEST_F(HostilePluginInThread, SegfaultInAReadEndsTheAgentBySigsegvNotSigabrt) {
    configure("sensors = boom\nsensor.boom.plugin = misbehaving\nsensor.boom.mode = segv\n");
    const auto r = once();
    EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.err;
}

TEST_F(HostilePluginInProcess, CrashesHangsAndMemoryHogsBecomeTheirOwnSensorsErrors) {
    configure(
        "agent.read_timeout = 2\nsensors = segv, abrt, hung, hog, fine\n"
        "sensor.segv.plugin = misbehaving\nsensor.segv.mode = segv\n"
        "sensor.abrt.plugin = misbehaving\nsensor.abrt.mode = abort\n"
        "sensor.hung.plugin = misbehaving\nsensor.hung.mode = hang\n"
        "sensor.hog.plugin = misbehaving\nsensor.hog.mode = " +
        // Sanitized hosts set no RLIMIT_AS (the shadow memory alone exceeds it): the hog would
        // only eat the machine's memory there.
        std::string(kSanitized ? "ok" : "hog") +
        "\nsensor.hog.memory_max = 32\nsensor.fine.plugin = example_c\n");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    const auto error = [&](const char* name) {
        return payload->getObject(name)->getValue<std::string>("error");
    };
    const std::string file = (plugins.path() / "misbehaving.so").string();
    EXPECT_THAT(error("segv"), StartsWith("plugin host crashed (SIGSEGV) during read of sensor "
                                          "'segv' (plugin file " +
                                          file + "); restart 1 in 1 s"));
    EXPECT_THAT(error("abrt"), StartsWith("plugin host crashed (SIGABRT)"));
    // The host's own deadline or, on a busy machine, the reader's just after it.
    EXPECT_THAT(error("hung"), StartsWith("timeout: "));
    if (!kSanitized) {
        EXPECT_THAT(error("hog"), StartsWith("plugin host crashed (SIG"));
    }
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42);
    EXPECT_THAT(r.err, HasSubstr("plugin host crashed (SIGSEGV) during read of sensor 'segv' "
                                 "(plugin file " +
                                 file + "); restart 1 in 1 s"));
}

TEST_F(HostilePluginInProcess, ChdirUmaskAndTimezoneOfAPluginStayInItsHost) {
    configureBesideFine("meddler", "state", "agent.interval = 0.2\n");
    const auto r = run(agentArgs({"--once"}), {"TZ=UTC"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto reading = parseObject(r.out);
    EXPECT_TRUE(reading->getObject("payload")->getObject("meddler")->getValue<bool>("ok"));
    EXPECT_THAT(reading->getValue<std::string>("ts_local"), ::testing::EndsWith("+00:00"));

    fs::remove(work / "status.json");
    Background agent(agentArgs({}), work / "agent", {"TZ=UTC"});
    ASSERT_TRUE(
        eventually([&] { return fs::exists(work / "status.json"); }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10)), 0) << agent.err();
    struct stat st {};
    ASSERT_EQ(::stat((work / "status.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0022, 0u) << "the plugin's umask(0) reached the agent";
}

TEST_F(HostilePluginInProcess, PluginOutputGoesToTheLogPrefixedWithTheSensorName) {
    configureBesideFine("chatty", "print");
    const auto r = once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(
        parseObject(r.out)->getObject("payload")->getObject("chatty")->getValue<bool>("ok"));
    EXPECT_THAT(r.err, HasSubstr("sensor 'chatty': misbehaving: debug output from create"));
    EXPECT_THAT(r.err, HasSubstr("sensor 'chatty': misbehaving: debug output from read"));
}

}  // namespace
}  // namespace sensorsys::test
