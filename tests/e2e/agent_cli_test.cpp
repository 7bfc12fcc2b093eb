// sensorsys-agent as a user runs it: the real binary, real plugins, real configuration files.
#include <sensorsys/plugin.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sensorsys/plugin.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// The ABI this build's agent speaks, as --version and --list-plugins print it.
const std::string kHostAbi =
    std::to_string(SENSORSYS_ABI_MAJOR) + "." + std::to_string(SENSORSYS_ABI_MINOR);

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

class AgentCli : public ::testing::Test {
  protected:
    void SetUp() override {
        copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
        // Keep only the two well-behaved fixtures: the refusals have their own tests.
        for (const auto& entry : fs::directory_iterator(plugins.path())) {
            const auto name = entry.path().filename().string();
            if (name != "example_c.so" && name != "misbehaving.so") fs::remove(entry.path());
        }
    }

    ProcessResult agent(std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) const {
        args.insert(args.begin(), SENSORSYS_AGENT_BINARY);
        args.push_back("--define");
        args.push_back("plugins.dir=" + plugins.path().string());
        args.push_back("--config");
        args.push_back(config().string());
        return run(args, env);
    }

    fs::path config() const {
        const fs::path file = work / "agent.properties";
        if (!fs::exists(file)) writeFile(file, "# empty\n");
        return file;
    }

    TempDir plugins;
    TempDir work;
};

TEST_F(AgentCli, VersionNamesTheAbi) {
    const auto r = run({SENSORSYS_AGENT_BINARY, "--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("sensorsys-agent "));
    EXPECT_THAT(r.out, HasSubstr("plugin ABI " + kHostAbi));
}

TEST_F(AgentCli, HelpListsOptionsAndEveryConfigKey) {
    const auto r = run({SENSORSYS_AGENT_BINARY, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* text : {"--once", "--list-plugins", "--config", "--define", "agent.interval",
                             "sync.backoff_max", "retention.min_store_mb", "sensor.NAME"}) {
        EXPECT_THAT(r.out, HasSubstr(text));
    }
}

TEST_F(AgentCli, OncePrintsExactlyOneReadingWithTheContractsFields) {
    writeFile(work / "agent.properties",
              "agent.device_id = pi-test\n"
              "sensors = first, second\n"
              "sensor.first.plugin = example_c\n"
              "sensor.first.label = one\n"
              "sensor.second.plugin = example_c\n"
              "sensor.second.label = two\n");
    const auto r = agent({"--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    const auto reading = parseObject(r.out);
    EXPECT_EQ(reading->getValue<std::string>("device_id"), "pi-test");
    EXPECT_TRUE(std::regex_match(
        reading->getValue<std::string>("reading_id"),
        std::regex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    EXPECT_TRUE(std::regex_match(reading->getValue<std::string>("ts_utc"),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
    EXPECT_TRUE(
        std::regex_match(reading->getValue<std::string>("ts_local"),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d)")));
    const auto payload = reading->getObject("payload");
    EXPECT_EQ(payload->getObject("first")->getValue<std::string>("label"), "one");
    EXPECT_EQ(payload->getObject("second")->getValue<std::string>("label"), "two");
    EXPECT_THAT(r.err, HasSubstr(" - INFO - plugin example_c 1.2.3 loaded from"));
}

TEST_F(AgentCli, EveryPluginFoundGetsOneInstanceNamedAfterIt) {
    const auto r = agent({"--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_TRUE(payload->has("example_c"));
    EXPECT_TRUE(payload->has("misbehaving"));
}

TEST_F(AgentCli, DeviceIdFallsBackToTheSeedsEnvironmentVariable) {
    const auto r = agent({"--once"}, {"DEVICE_ID=from-env"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(parseObject(r.out)->getValue<std::string>("device_id"), "from-env");
}

TEST_F(AgentCli, HungPluginIsReportedAsTimeoutWithinDeadlinePlusOneSecond) {
    writeFile(work / "agent.properties",
              "agent.read_timeout = 1\n"
              "sensors = stuck, fine, broken\n"
              "sensor.stuck.plugin = misbehaving\n"
              "sensor.stuck.mode = hang\n"
              "sensor.fine.plugin = example_c\n"
              "sensor.broken.plugin = misbehaving\n"
              "sensor.broken.mode = array\n");
    const auto r = agent({"--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(r.elapsed.count(), 2000) << "the hung read was waited for";
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_THAT(payload->getObject("stuck")->getValue<std::string>("error"),
                ::testing::StartsWith("timeout"));
    EXPECT_EQ(payload->getObject("fine")->getValue<int>("value"), 42);
    EXPECT_THAT(payload->getObject("broken")->getValue<std::string>("error"),
                HasSubstr("not an object"));
}

TEST_F(AgentCli, MissingPluginIsAnErrorForThatInstanceOnly) {
    writeFile(
        work / "agent.properties",
        "sensors = ghost, fine\nsensor.ghost.plugin = nope\nsensor.fine.plugin = example_c\n");
    const auto r = agent({"--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto payload = parseObject(r.out)->getObject("payload");
    EXPECT_THAT(payload->getObject("ghost")->getValue<std::string>("error"),
                HasSubstr("plugin 'nope' for sensor 'ghost' is not loaded"));
    EXPECT_TRUE(payload->getObject("fine")->has("value"));
}

TEST_F(AgentCli, InvalidConfigurationExits78NamingTheKey) {
    for (const auto& [define, key] : std::vector<std::pair<std::string, std::string>>{
             {"agent.interval=never", "agent.interval"},
             {"sync.timout=3", "sync.timout"},
             {"logging.level=loud", "logging.level"}}) {
        const auto r = agent({"--once", "--define", define});
        EXPECT_EQ(r.exit_code, 78) << define;
        EXPECT_THAT(r.err, HasSubstr(key)) << define;
        EXPECT_EQ(r.out, "") << define;
    }
}

TEST_F(AgentCli, PluginRefusingItsConfigurationExits78NamingTheInstance) {
    writeFile(work / "agent.properties",
              "sensors = x\nsensor.x.plugin = example_c\nsensor.x.reject = 1\n");
    const auto r = agent({"--once"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("sensor 'x' (plugin example_c)"));
}

TEST_F(AgentCli, KeyThePluginDidNotDeclareExits78NamingItAndTheDeclaredKeys) {
    writeFile(work / "agent.properties",
              "sensors = x\nsensor.x.plugin = example_c\nsensor.x.labl = one\n");
    const auto r = agent({"--once"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("unknown key 'sensor.x.labl': plugin example_c declares label, "
                                 "reject"));
    EXPECT_EQ(r.out, "");
}

TEST_F(AgentCli, MissingConfigFileExits78) {
    const auto r = run({SENSORSYS_AGENT_BINARY, "--once", "--config", "/nonexistent.properties"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("/nonexistent.properties"));
}

TEST_F(AgentCli, ListPluginsShowsLoadedAndRefusedWithReasons) {
    copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, plugins.path());
    const auto text = agent({"--list-plugins"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out,
                HasSubstr("example_c 1.2.3 ABI " + kHostAbi + " loaded from example_c.so"));
    EXPECT_THAT(text.out, HasSubstr("      sensor.NAME.label (string, default: empty): text "
                                    "reported in every reading\n"));
    EXPECT_THAT(text.out, HasSubstr("wrong_major.so refused: ABI major version 2"));

    const auto json = agent({"--list-plugins", "--json"});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    const auto root = parseObject(json.out);
    EXPECT_EQ(root->getValue<std::string>("agent_abi"), kHostAbi);
    const auto list = root->getArray("plugins");
    int loaded = 0;
    int refused = 0;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto entry = list->getObject(static_cast<unsigned>(i));
        (entry->getValue<std::string>("status") == "loaded" ? loaded : refused)++;
        if (entry->getValue<std::string>("status") == "refused") {
            EXPECT_FALSE(entry->getValue<std::string>("reason").empty());
        }
        if (entry->optValue<std::string>("name", "") == "example_c") {
            const auto keys = entry->getArray("config_keys");
            ASSERT_EQ(keys->size(), 2u);
            EXPECT_EQ(keys->getObject(0)->getValue<std::string>("name"), "label");
            EXPECT_EQ(keys->getObject(0)->getValue<std::string>("type"), "string");
            EXPECT_EQ(keys->getObject(0)->getValue<std::string>("default"), "");
            EXPECT_EQ(keys->getObject(0)->getValue<std::string>("description"),
                      "text reported in every reading");
        }
    }
    EXPECT_EQ(loaded, 2);
    EXPECT_EQ(refused, 11);
}

int threadCount(int pid) {
    std::istringstream status(readFile("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    }
    return -1;
}

TEST_F(AgentCli, HungPluginNeverStopsTheOthersNorPilesUpThreadsAndSigtermIsPrompt) {
    writeFile(work / "agent.properties",
              "agent.interval = 0.2\n"
              "agent.read_timeout = 0.1\n"
              "sensors = stuck, fine\n"
              "sensor.stuck.plugin = misbehaving\n"
              "sensor.stuck.mode = hang\n"
              "sensor.fine.plugin = example_c\n"
              "sync.url = http://127.0.0.1:9\n"
              "store.path = " +
                  (work / "buffer.db").string() +
                  "\n"
                  "agent.status_file = " +
                  (work / "status.json").string() + "\n");
    Background agent({SENSORSYS_AGENT_BINARY, "--config", config().string(), "--define",
                      "plugins.dir=" + plugins.path().string()},
                     work / "agent");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const int early = threadCount(agent.pid());
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    const int late = threadCount(agent.pid());
    EXPECT_EQ(early, late) << "threads grow with every tick of the hung plugin";

    std::chrono::milliseconds took{};
    EXPECT_EQ(agent.stop(SIGTERM, std::chrono::seconds(10), &took), 0) << agent.err();
    EXPECT_LT(took.count(), 2000) << "SIGTERM waited for the hung read";

    const auto status =
        run({SENSORSYS_AGENT_BINARY, "--status", "--json", "--config", config().string()});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    const auto root = parseObject(status.out);
    // 3.5 s at 5 Hz: ~17 readings; every one has "fine" read and "stuck" timed out.
    EXPECT_GE(root->getValue<long long>("backlog"), 12);
    const auto sensors = root->getObject("agent")->getObject("sensors");
    EXPECT_EQ(sensors->getObject("fine")->getValue<int>("value"), 42);
    EXPECT_THAT(sensors->getObject("stuck")->getValue<std::string>("error"),
                ::testing::StartsWith("timeout"));
}

TEST(AgentCliPlugins, OnceReadsThisMachinesRealDiskThroughTheBuiltPlugins) {
    if (!fs::exists(fs::path(SENSORSYS_PLUGIN_BUILD_DIR) / "disk.so")) {
        GTEST_SKIP() << "disk plugin not built";
    }
    const auto r = run({SENSORSYS_AGENT_BINARY, "--once", "--define",
                        std::string("plugins.dir=") + SENSORSYS_PLUGIN_BUILD_DIR});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto disk = parseObject(r.out)->getObject("payload")->getObject("disk");
    EXPECT_GT(disk->getValue<long long>("total_mb"), 0);
    EXPECT_GE(disk->getValue<long long>("free_mb"), 0);
}

// motion cannot run without its GPIO line: found in the plugin folder with nothing configured,
// it is skipped with a warning (installing the plugins package never stops an agent); named in
// `sensors`, the missing setting is a configuration error like any other.
TEST(AgentCliPlugins, APluginThatNeedsSettingsIsSkippedUnlessConfigured) {
    if (!fs::exists(fs::path(SENSORSYS_PLUGIN_BUILD_DIR) / "motion.so")) {
        GTEST_SKIP() << "motion plugin not built";
    }
    const std::string dir = std::string("plugins.dir=") + SENSORSYS_PLUGIN_BUILD_DIR;
    const auto found = run({SENSORSYS_AGENT_BINARY, "--once", "--define", dir});
    ASSERT_EQ(found.exit_code, 0) << found.err;
    const auto payload = parseObject(found.out)->getObject("payload");
    EXPECT_FALSE(payload->has("motion"));
    EXPECT_TRUE(payload->has("disk"));
    EXPECT_THAT(found.err, HasSubstr("sensor 'motion' is not started"));
    EXPECT_THAT(found.err, HasSubstr("key 'line' is required"));

    const auto named = run(
        {SENSORSYS_AGENT_BINARY, "--once", "--define", dir, "--define", "sensors=disk, motion"});
    EXPECT_EQ(named.exit_code, 78);
    EXPECT_THAT(named.err, HasSubstr("sensor.motion.*"));
}

}  // namespace
}  // namespace sensorsys::test
