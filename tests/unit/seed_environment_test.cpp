#include "seed_environment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::agent {
namespace {

using ::testing::HasSubstr;

TEST(DotEnv, ReadsKeyValueLinesWithCommentsExportAndQuotes) {
    test::TempDir dir;
    test::writeFile(
        dir / ".env",
        "# seed settings\n\nAPI_SERVER=http://api:8000\nexport DEVICE_ID = \"pi shed\"\n"
        "DB_PASSWORD='s3cr=t'\n");
    const auto vars = readDotEnv(dir / ".env");
    EXPECT_EQ(vars.at("API_SERVER"), "http://api:8000");
    EXPECT_EQ(vars.at("DEVICE_ID"), "pi shed");
    EXPECT_EQ(vars.at("DB_PASSWORD"), "s3cr=t");
}

TEST(DotEnv, MissingFileIsEmptyAndABadLineIsNamed) {
    EXPECT_TRUE(readDotEnv("/nonexistent/.env").empty());
    test::TempDir dir;
    test::writeFile(dir / ".env", "OK=1\nthis line is wrong\n");
    try {
        readDotEnv(dir / ".env");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr(".env:2: expected KEY=VALUE"));
    }
}

TEST(SeedEnvironment, ProcessEnvironmentWinsOverDotEnv) {
    const Variables dot_env{{"API_SERVER", "http://from-file"}, {"DB_NAME", "sensor_agent"}};
    const auto seed =
        seedVariables(dot_env, [](const std::string& name) -> std::optional<std::string> {
            if (name == "API_SERVER") return "http://from-env";
            return std::nullopt;
        });
    EXPECT_EQ(seed.at("API_SERVER"), "http://from-env");
    EXPECT_EQ(seed.at("DB_NAME"), "sensor_agent");
    EXPECT_EQ(seed.count("DEVICE_ID"), 0u);
}

TEST(SeedEnvironment, MapsToSyncUrlAndALibpqConnectionString) {
    const auto keys = keysFromSeedVariables({{"API_SERVER", "http://api:8000"},
                                             {"DB_HOST", "127.0.0.1"},
                                             {"DB_PORT", "5432"},
                                             {"DB_NAME", "sensor_agent"},
                                             {"DB_USER", "sensor"},
                                             {"DB_PASSWORD", "it's secret"}});
    EXPECT_EQ(keys.at("sync.url"), "http://api:8000");
    EXPECT_EQ(
        keys.at("store.connection"),
        R"(host=127.0.0.1 port=5432 dbname=sensor_agent user=sensor password='it\'s secret')");
    EXPECT_TRUE(keysFromSeedVariables({{"DEVICE_ID", "x"}}).empty());
}

}  // namespace
}  // namespace sensorsys::agent
