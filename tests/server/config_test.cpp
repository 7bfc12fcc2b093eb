#include "server_config.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace sensorsys::server {
namespace {

TEST(ServerConfig, DefaultsMatchTheContract) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    const auto s = ServerConfig::load(*c);
    EXPECT_EQ(s.port, 8000);
    EXPECT_EQ(s.bind, "127.0.0.1");
    EXPECT_TRUE(s.authEnabled);
    EXPECT_EQ(s.maxBodyBytes, 16 * 1024 * 1024);
    EXPECT_EQ(s.maxBatch, 10000);
}

TEST(ServerConfig, InvalidValueNamesTheKeyAndWhatIsAllowed) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("http.port", "eighty");
    try {
        ServerConfig::load(*c);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("http.port"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("0 to 65535"), std::string::npos);
    }
    c->setString("http.port", "80");
    c->setString("auth.enabled", "maybe");
    EXPECT_THROW(ServerConfig::load(*c), ConfigError);
}

TEST(ServerConfig, LoggingLevelTakesTheAgentsNamesAndPocosAndNamesTheKeyOtherwise) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    EXPECT_EQ(ServerConfig::load(*c).logLevel, Poco::Message::PRIO_INFORMATION);
    c->setString("logging.level", "warning");
    EXPECT_EQ(ServerConfig::load(*c).logLevel, Poco::Message::PRIO_WARNING);
    c->setString("logging.level", "DEBUG");
    EXPECT_EQ(ServerConfig::load(*c).logLevel, Poco::Message::PRIO_DEBUG);
    c->setString("logging.level", "information");  // what 0.1.0's packaged file says
    EXPECT_EQ(ServerConfig::load(*c).logLevel, Poco::Message::PRIO_INFORMATION);
    c->setString("logging.level", "loud");
    try {
        ServerConfig::load(*c);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("logging.level = 'loud'"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("debug, info, warning, error or critical"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ServerConfig, UnknownKeyInAServerNamespaceIsRefusedNamingTheNearestKey) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("limits.max_bach", "1");
    try {
        ServerConfig::load(*c);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "unknown key 'limits.max_bach' (nearest known key: limits.max_batch)"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ServerConfig, KeysOutsideTheServersNamespacesAreLeftAlone) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("application.name", "sensorsys-server");
    c->setString("system.osName", "Linux");
    EXPECT_NO_THROW(ServerConfig::load(*c));
}

TEST(ServerConfig, MaxThreadsBelowMinThreadsIsRefused) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("http.min_threads", "8");
    c->setString("http.max_threads", "4");
    EXPECT_THROW(ServerConfig::load(*c), ConfigError);
}

TEST(ServerConfig, NoReplicaByDefaultAndItsPoolFollowsPoolSizeUnlessSet) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("database.pool_size", "6");
    EXPECT_EQ(ServerConfig::load(*c).readConnection, "");
    EXPECT_EQ(ServerConfig::load(*c).replicaPoolSize(), 6);
    c->setString("database.read_connection", "host=10.0.0.2 dbname=sensorsys");
    c->setString("database.read_pool_size", "3");
    EXPECT_EQ(ServerConfig::load(*c).readConnection, "host=10.0.0.2 dbname=sensorsys");
    EXPECT_EQ(ServerConfig::load(*c).replicaPoolSize(), 3);
    c->setString("database.read_pool_size", "-1");
    EXPECT_THROW(ServerConfig::load(*c), ConfigError);
}

TEST(ServerConfig, WwwDirDefaultsToThePrefixsShareAndItsFormerNameIsStillRead) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    EXPECT_EQ(ServerConfig::load(*c).wwwDir, SENSORSYS_WWW_DIR);
    EXPECT_TRUE(std::string(SENSORSYS_WWW_DIR).ends_with("/share/sensorsys/www"));
    c->setString("http.www_root", "/srv/old-name");
    EXPECT_EQ(ServerConfig::load(*c).wwwDir, "/srv/old-name");
    c->setString("http.www_dir", "/srv/www");
    EXPECT_EQ(ServerConfig::load(*c).wwwDir, "/srv/www");
    c->setString("http.www_dir", "");
    EXPECT_EQ(ServerConfig::load(*c).wwwDir, "") << "empty: no dashboard";
}

// The packaged file documents every key with its default, and sets no key the server lacks.
TEST(ServerConfig, ThePackagedPropertiesFileDocumentsEveryKeyWithItsDefaultAndNoOther) {
    const std::string path = std::string(SENSORSYS_SOURCE_DIR) + "/etc/server.properties";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& key : configKeys().keys()) {
        const std::string name(key.name);
        // The package's prefix is /usr; a build for another prefix has its own default.
        const std::string fallback =
            name == "http.www_dir" ? "/usr/share/sensorsys/www" : std::string(key.defaultValue);
        EXPECT_NE(text.str().find(name + " = " + fallback + "\n"), std::string::npos) << name;
        EXPECT_NE(text.str().find("(default: " + fallback + ")\n" + name + " ="), std::string::npos)
            << name;
    }
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file(
        new Poco::Util::PropertyFileConfiguration(path));
    EXPECT_NO_THROW(ServerConfig::load(*file));
    Poco::Util::AbstractConfiguration::Keys roots;
    file->keys(roots);
    std::size_t set = 0;
    for (const auto& root : roots) {
        Poco::Util::AbstractConfiguration::Keys leaves;
        file->keys(root, leaves);
        set += leaves.size();
    }
    EXPECT_EQ(set, configKeys().keys().size()) << "the file sets a key the server lacks";
    EXPECT_TRUE(file->getBool("auth.enabled"));
}

}  // namespace
}  // namespace sensorsys::server
