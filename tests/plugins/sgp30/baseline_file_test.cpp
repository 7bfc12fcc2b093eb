// The baseline file: written atomically in the documented JSON shape, restored only when young
// and well-formed.
#include "baseline_file.hpp"

#include "error_of.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using namespace sensorsys;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// 2026-06-01T12:00:00Z.
const auto kNoon = std::chrono::sys_days(std::chrono::year(2026) / 6 / 1) + 12h;

class Sgp30BaselineFile : public ::testing::Test {
  protected:
    void SetUp() override { std::filesystem::create_directories(folder.path()); }
    void write(const std::string& text) { std::ofstream(path) << text; }
    std::string contents() {
        std::ifstream in(path);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    Poco::TemporaryFile folder;
    std::string path = folder.path() + "/sgp30-test.json";
};

TEST_F(Sgp30BaselineFile, SavesTheDocumentedJsonAndLeavesNoTemporaryFile) {
    sgp30::saveBaseline(path, {0x8E68, 0x8F41}, kNoon);
    const auto object = Poco::JSON::Parser().parse(contents()).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(object->getValue<int>("eco2"), 0x8E68);
    EXPECT_EQ(object->getValue<int>("tvoc"), 0x8F41);
    EXPECT_EQ(object->getValue<std::string>("saved"), "2026-06-01T12:00:00Z");
    EXPECT_EQ(object->size(), 3U);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(Sgp30BaselineFile, RestoresWhatItSavedWithinSevenDays) {
    sgp30::saveBaseline(path, {0x8E68, 0x8F41}, kNoon);
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon + 24h * 7 - 1s), (sgp30::Baseline{0x8E68, 0x8F41}));
}

TEST_F(Sgp30BaselineFile, IgnoresAFileSevenDaysOldOrOlder) {
    sgp30::saveBaseline(path, {0x8E68, 0x8F41}, kNoon);
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon + 24h * 7), std::nullopt);
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon + 24h * 30), std::nullopt);
}

TEST_F(Sgp30BaselineFile, IgnoresAFileSavedInTheFuture) {
    sgp30::saveBaseline(path, {0x8E68, 0x8F41}, kNoon + 1h);
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon), std::nullopt);
}

TEST_F(Sgp30BaselineFile, IgnoresMissingAndCorruptFiles) {
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon), std::nullopt);
    for (const char* text : {"", "{", "[1, 2]", R"({"eco2": 1, "tvoc": 2})",
                             R"({"eco2": "1", "tvoc": 2, "saved": "2026-06-01T11:00:00Z"})",
                             R"({"eco2": 70000, "tvoc": 2, "saved": "2026-06-01T11:00:00Z"})",
                             R"({"eco2": 1, "tvoc": 2, "saved": "yesterday"})"}) {
        write(text);
        EXPECT_EQ(sgp30::loadBaseline(path, kNoon), std::nullopt) << text;
    }
    write(R"({"eco2": 1, "tvoc": 2, "saved": "2026-06-01T11:00:00Z"})");
    EXPECT_EQ(sgp30::loadBaseline(path, kNoon), (sgp30::Baseline{1, 2}));
}

TEST_F(Sgp30BaselineFile, SaveFailureNamesThePathAndErrno) {
    const std::string missing = folder.path() + "/no-such-folder/sgp30.json";
    const std::string message = test::errorOf<plugin::ReadError>([&] {
        sgp30::saveBaseline(missing, {1, 2}, kNoon);
    });
    EXPECT_THAT(message, HasSubstr(missing));
    EXPECT_THAT(message, HasSubstr("ENOENT"));
}

}  // namespace
