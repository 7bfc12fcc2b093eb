// Sensor instances and parallel reads against real fixture plugins: bad output becomes
// {"error": ...} for that instance only, hung reads are abandoned and not piled up.
#include "sensor_instance.hpp"

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "parallel_reader.hpp"
#include "plugin_loader.hpp"
#include "test_support.hpp"

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class SensorInstanceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        test::copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, dir.path());
        scan = PluginLoader(dir.path()).loadAll();
    }

    std::shared_ptr<const LoadedPlugin> plugin(const std::string& name) const {
        for (const auto& p : scan.loaded) {
            if (p->name() == name) return p;
        }
        throw std::runtime_error("fixture plugin " + name + " not loaded");
    }

    std::shared_ptr<SensorInstance> misbehaving(const std::string& mode) const {
        return std::make_shared<SensorInstance>(mode, plugin("misbehaving"),
                                                "{\"mode\":\"" + mode + "\"}");
    }

    test::TempDir dir;
    PluginScan scan;
};

TEST_F(SensorInstanceTest, PlainCPluginReadsItsOwnConfiguration) {
    SensorInstance a("a", plugin("example_c"), R"({"label":"first"})");
    SensorInstance b("b", plugin("example_c"), R"({"label":"second"})");
    EXPECT_EQ(a.read(), R"({"value": 42, "label": "first", "reads": 1})");
    EXPECT_EQ(b.read(), R"({"value": 42, "label": "second", "reads": 1})");
    EXPECT_EQ(a.read(), R"({"value": 42, "label": "first", "reads": 2})");
}

TEST_F(SensorInstanceTest, InvalidJsonBecomesError) {
    EXPECT_THAT(misbehaving("invalid_json")->read(),
                AllOf(StartsWith(R"({"error":"misbehaving: output is not valid JSON)")));
}

TEST_F(SensorInstanceTest, ArrayBecomesError) {
    EXPECT_EQ(misbehaving("array")->read(),
              R"({"error":"misbehaving: output is a JSON array, not an object"})");
}

TEST_F(SensorInstanceTest, NaNBecomesError) {
    EXPECT_THAT(misbehaving("nan")->read(), StartsWith(R"({"error":"misbehaving: output is)"));
}

TEST_F(SensorInstanceTest, InfiniteNumberBecomesError) {
    EXPECT_THAT(misbehaving("infinite")->read(),
                StartsWith(R"({"error":"misbehaving: output is not valid JSON)"));
}

TEST_F(SensorInstanceTest, OutputOverTheCapBecomesError) {
    EXPECT_EQ(misbehaving("huge")->read(),
              R"({"error":"output of 1048576 bytes exceeds the cap of 65536 bytes"})");
}

TEST_F(SensorInstanceTest, BufferTooSmallIsRetriedWithTheSizeAskedFor) {
    const std::string json = misbehaving("grow")->read();
    EXPECT_EQ(json.size(), 10u * 1024u);
    EXPECT_THAT(json, StartsWith(R"({"pad": "xxx)"));
}

TEST_F(SensorInstanceTest, PluginAskingForMoreTwiceIsAnError) {
    EXPECT_THAT(misbehaving("too_small_twice")->read(),
                HasSubstr("plugin asked for a larger buffer twice"));
}

TEST_F(SensorInstanceTest, ReadFailureCarriesThePluginsMessage) {
    EXPECT_EQ(misbehaving("fail")->read(),
              R"({"error":"misbehaving: sensor unplugged at /dev/fake0"})");
}

TEST_F(SensorInstanceTest, ErrorBufferOverrunBecomesAnErrorNamingThePlugin) {
    EXPECT_THAT(misbehaving("overrun")->read(),
                HasSubstr("plugin misbehaving (" + plugin("misbehaving")->path().string() +
                          ") wrote past the end of its 512-byte error buffer"));
}

TEST_F(SensorInstanceTest, EachReadIsNotedInItsSlotAndClearedWhenItReturns) {
    const auto note_file = dir.path() / "calls";
    const auto fine = misbehaving("ok");
    fine->recordCallsIn(std::make_shared<const CallNote>(note_file), 3);
    EXPECT_THAT(fine->read(), HasSubstr("\"ok\""));
    // Slot 3 was written (the file reaches it) and then cleared.
    EXPECT_EQ(std::filesystem::file_size(note_file), 4 * CallNote::kSlotSize);
    EXPECT_TRUE(CallNote(note_file).interrupted().empty());
}

TEST_F(SensorInstanceTest, RefusedConfigurationNamesTheInstance) {
    try {
        SensorInstance bad("kitchen", plugin("example_c"), R"({"reject":true})");
        bad.create();
        FAIL() << "configuration was accepted";
    } catch (const SensorConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("sensor 'kitchen' (plugin example_c): example_c: key "
                                        "'reject' is not allowed"));
    }
}

TEST_F(SensorInstanceTest, LateReadIsAbandonedAndNotCalledAgainWhileRunning) {
    Poco::ThreadPool pool(2, 8);
    ParallelReader reader(pool, std::chrono::milliseconds(200));
    const auto slow = misbehaving("slow");  // answers after 1.5 s
    const auto fine = misbehaving("ok");

    auto results = reader.readAll({slow, fine});
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].name, "slow");
    EXPECT_THAT(results[0].json, StartsWith(R"({"error":"timeout: plugin misbehaving did not)"));
    EXPECT_FALSE(results[0].ok);
    EXPECT_EQ(results[1].json, R"({"ok": true})");
    EXPECT_TRUE(results[1].ok);

    results = reader.readAll({slow, fine});
    EXPECT_THAT(results[0].json, StartsWith(R"({"error":"timeout: the previous read of 'slow')"));
    EXPECT_EQ(results[1].json, R"({"ok": true})");

    while (slow->readInFlight()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pool.joinAll();
}

}  // namespace
}  // namespace sensorsys::agent
