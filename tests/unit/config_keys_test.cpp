#include <sensorsys/common/config_keys.hpp>

#include <functional>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorsys::config {
namespace {

using ::testing::HasSubstr;

// A made-up program's table: adding a key is this one line per key.
constexpr ConfigKey kKeys[] = {
    integerKey("net.port", "80", "port", 1, 65535),
    choiceKey("net.mode", "fast", "mode", "fast|safe"),
    booleanKey("net.gzip", "true", "gzip"),
    durationKey("net.timeout", "1.5", "timeout", 0.1, 60),
    stringKey("top", "", "a key outside any namespace"),
};

class KeyTableTest : public ::testing::Test {
  protected:
    std::string refusal(const std::function<void()>& read) {
        try {
            read();
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(accepted)";
    }
    KeyTable table{kKeys};
    Poco::AutoPtr<Poco::Util::MapConfiguration> config =
        Poco::makeAuto<Poco::Util::MapConfiguration>();
};

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
    EXPECT_EQ(editDistance("limits.max_bach", "limits.max_batch"), 1u);
    EXPECT_EQ(editDistance("abc", "abc"), 0u);
    EXPECT_EQ(editDistance("", "abc"), 3u);
    EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST_F(KeyTableTest, UnsetKeysReadTheirDefaults) {
    EXPECT_EQ(table.integer(*config, "net.port"), 80);
    EXPECT_EQ(table.text(*config, "net.mode"), "fast");
    EXPECT_TRUE(table.boolean(*config, "net.gzip"));
    EXPECT_EQ(table.duration(*config, "net.timeout"), std::chrono::milliseconds(1500));
}

TEST_F(KeyTableTest, ValuesOutsideTheRuleNameKeyValueAndWhatIsAllowed) {
    config->setString("net.port", "70000");
    EXPECT_EQ(refusal([&] { table.integer(*config, "net.port"); }),
              "invalid configuration: net.port = '70000': must be a whole number from 1 to 65535");
    config->setString("net.mode", "slow");
    EXPECT_THAT(refusal([&] { table.text(*config, "net.mode"); }),
                HasSubstr("net.mode = 'slow': must be one of fast or safe"));
    config->setString("net.gzip", "perhaps");
    EXPECT_THAT(refusal([&] { table.boolean(*config, "net.gzip"); }),
                HasSubstr("must be true or false"));
    config->setString("net.timeout", "0");
    EXPECT_THAT(refusal([&] { table.duration(*config, "net.timeout"); }),
                HasSubstr("must be a number of seconds from 0.1 to 60"));
}

TEST_F(KeyTableTest, ChoicesAndBooleansAreNormalised) {
    config->setString("net.mode", "SAFE");
    config->setString("net.gzip", "off");
    EXPECT_EQ(table.text(*config, "net.mode"), "safe");
    EXPECT_FALSE(table.boolean(*config, "net.gzip"));
}

TEST_F(KeyTableTest, UnknownKeyInANamespaceIsRefusedNamingTheNearest) {
    config->setString("net.prot", "81");
    EXPECT_EQ(refusal([&] { table.refuseUnknown(*config); }),
              "invalid configuration: unknown key 'net.prot' (nearest known key: net.port)");
}

TEST_F(KeyTableTest, KeysOutsideTheTablesNamespacesAreNotItsBusiness) {
    config->setString("other.thing", "1");
    config->setString("topping", "1");
    EXPECT_EQ(refusal([&] { table.refuseUnknown(*config); }), "(accepted)");
}

TEST_F(KeyTableTest, HelpListsEveryKeyWithDefaultDescriptionAndRule) {
    const std::string help = table.help();
    for (const auto& key : kKeys) EXPECT_THAT(help, HasSubstr("  " + std::string(key.name)));
    EXPECT_THAT(help, HasSubstr("  net.port (default: 80)\n      port [a whole number from 1 to "
                                "65535]\n"));
    EXPECT_THAT(help, HasSubstr("  top (default: empty)\n      a key outside any namespace\n"));
}

}  // namespace
}  // namespace sensorsys::config
