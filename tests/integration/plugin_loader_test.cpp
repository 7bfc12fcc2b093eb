// The loader against real .so files built by tests/fixtures/plugins: every refusal of
// docs/contract.md §2 with its precise message, and the good plugins loading beside them.
#include "plugin_loader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

class PluginLoaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        test::copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, dir.path());
        test::writeFile(dir / "not_elf.so", "this is a text file, not a shared object\n");
        test::writeFile(dir / "README.txt", "ignored: not a .so\n");
        fs::copy_file(dir / "example_c.so", dir / "group_writable.so");
        ::chmod((dir / "group_writable.so").c_str(), 0775);
        scan = PluginLoader(dir.path()).loadAll();
    }

    std::string refusal(const std::string& file) const {
        for (const auto& r : scan.refused) {
            if (r.file.filename() == file) return r.message();
        }
        return "(" + file + " was not refused)";
    }

    std::vector<std::string> loadedNames() const {
        std::vector<std::string> names;
        for (const auto& p : scan.loaded) names.push_back(p->name());
        return names;
    }

    test::TempDir dir;
    PluginScan scan;
};

TEST_F(PluginLoaderTest, GoodPluginsLoadBesideEveryRefusedOne) {
    EXPECT_THAT(loadedNames(), ::testing::UnorderedElementsAre("example_c", "misbehaving"));
    EXPECT_EQ(scan.refused.size(), 13u);
}

TEST_F(PluginLoaderTest, PlainCPluginDescriptorIsRead) {
    const auto it = std::find_if(scan.loaded.begin(), scan.loaded.end(),
                                 [](const auto& p) { return p->name() == "example_c"; });
    ASSERT_NE(it, scan.loaded.end());
    EXPECT_EQ((*it)->version(), "1.2.3");
    EXPECT_EQ((*it)->description(), "plain C example plugin");
    EXPECT_EQ((*it)->path().filename(), "example_c.so");
}

TEST_F(PluginLoaderTest, RefusesWrongMajorNamingFileAndBothVersions) {
    EXPECT_THAT(refusal("wrong_major.so"),
                AllOf(HasSubstr(dir.path().string() + "/wrong_major.so: "),
                      HasSubstr("ABI major version 2 differs from the agent's 1"),
                      HasSubstr("plugin ABI 2." + std::to_string(SENSORSYS_ABI_MINOR) +
                                ", agent ABI " + PluginLoader::hostAbi())));
}

TEST_F(PluginLoaderTest, RefusesNewerMinor) {
    const std::string newer = std::to_string(SENSORSYS_ABI_MINOR + 1);
    EXPECT_THAT(
        refusal("newer_minor.so"),
        AllOf(HasSubstr("ABI minor version " + newer + " is newer than the agent's " +
                        std::to_string(SENSORSYS_ABI_MINOR)),
              HasSubstr("plugin ABI 1." + newer + ", agent ABI " + PluginLoader::hostAbi())));
}

TEST_F(PluginLoaderTest, RefusesFileWithoutEntrySymbol) {
    EXPECT_THAT(refusal("no_entry.so"), HasSubstr("no entry symbol 'sensorsys_plugin_entry'"));
}

TEST_F(PluginLoaderTest, RefusesEntryThatIsADataSymbol) {
    EXPECT_THAT(refusal("data_entry.so"), HasSubstr("is not a function"));
}

TEST_F(PluginLoaderTest, RefusesPluginThatRefusesTheHost) {
    EXPECT_THAT(refusal("refuse_host.so"), HasSubstr("plugin refused this agent's ABI"));
}

TEST_F(PluginLoaderTest, RefusesNullRequiredFunction) {
    EXPECT_THAT(refusal("null_read.so"), HasSubstr("required function 'read' is NULL"));
}

TEST_F(PluginLoaderTest, RefusesDescriptorSmallerThanV1) {
    EXPECT_THAT(refusal("small_descriptor.so"),
                HasSubstr("descriptor of 16 bytes is smaller than ABI 1.0's " +
                          std::to_string(SENSORSYS_DESCRIPTOR_V1_SIZE)));
}

TEST_F(PluginLoaderTest, RefusesUnresolvedSymbolAtLoadTimeNotAtFirstCall) {
    EXPECT_THAT(refusal("unresolved.so"), AllOf(HasSubstr("not a loadable shared object"),
                                                HasSubstr("sensorsys_fixture_missing_symbol")));
}

TEST_F(PluginLoaderTest, RefusesFileThatIsNotELF) {
    EXPECT_THAT(refusal("not_elf.so"),
                AllOf(HasSubstr("not a loadable shared object"),
                      AnyOf(HasSubstr("invalid ELF header"), HasSubstr("file too short"))));
}

TEST_F(PluginLoaderTest, RefusesDuplicateNameKeepingTheFirstFile) {
    EXPECT_THAT(refusal("zz_duplicate.so"),
                HasSubstr("duplicate plugin name 'example_c', already loaded from " +
                          (dir / "example_c.so").string()));
}

TEST_F(PluginLoaderTest, KeysAnAbi11PluginDeclaresAreRead) {
    const auto it = std::find_if(scan.loaded.begin(), scan.loaded.end(),
                                 [](const auto& p) { return p->name() == "example_c"; });
    ASSERT_NE(it, scan.loaded.end());
    ASSERT_TRUE((*it)->configKeys().has_value());
    const auto& keys = *(*it)->configKeys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].name, "label");
    EXPECT_EQ(keys[0].type, "string");
    EXPECT_EQ(keys[0].defaultValue, "");
    EXPECT_EQ(keys[0].description, "text reported in every reading");
    EXPECT_EQ(keys[1].name, "reject");
    EXPECT_EQ(keys[1].type, "integer");
}

TEST_F(PluginLoaderTest, PluginWithoutAKeyTableDeclaresNothing) {
    const auto it = std::find_if(scan.loaded.begin(), scan.loaded.end(),
                                 [](const auto& p) { return p->name() == "misbehaving"; });
    ASSERT_NE(it, scan.loaded.end());
    EXPECT_FALSE((*it)->configKeys().has_value());
}

TEST(PluginLoaderAbi10, DescriptorEndingBeforeTheKeyTableLoadsAndDeclaresNothing) {
    const PluginScan scan = PluginLoader(SENSORSYS_COUNTER_PLUGIN_DIR).loadAll();
    ASSERT_EQ(scan.loaded.size(), 1u) << (scan.refused.empty() ? "" : scan.refused[0].message());
    EXPECT_EQ(scan.loaded[0]->name(), "counter");
    EXPECT_EQ(scan.loaded[0]->descriptor().abi_minor, 0);
    EXPECT_EQ(scan.loaded[0]->descriptor().config_keys, nullptr);
    EXPECT_FALSE(scan.loaded[0]->configKeys().has_value());
}

TEST_F(PluginLoaderTest, RefusesKeyTableWithAnUnknownTypeNamingFileAndKey) {
    EXPECT_THAT(refusal("bad_key_type.so"),
                AllOf(HasSubstr(dir.path().string() + "/bad_key_type.so: "),
                      HasSubstr("config key 1 ('ratio') has type 'float'")));
}

TEST_F(PluginLoaderTest, RefusesKeyTableWithoutAnEndWithinTheBound) {
    EXPECT_THAT(refusal("unended_keys.so"),
                AllOf(HasSubstr(dir.path().string() + "/unended_keys.so: "),
                      HasSubstr("config key table has no NULL-named end within 256 entries")));
}

TEST_F(PluginLoaderTest, RefusesGroupWritableFile) {
    EXPECT_THAT(refusal("group_writable.so"), HasSubstr("writable by group (mode 0775)"));
}

TEST(PluginLoaderDirectory, RefusesWorldWritableDirectoryAndLoadsNothing) {
    test::TempDir dir;
    test::copyFiles(SENSORSYS_FIXTURE_PLUGIN_DIR, dir.path());
    ::chmod(dir.path().c_str(), 0777);
    const PluginScan scan = PluginLoader(dir.path()).loadAll();
    EXPECT_TRUE(scan.loaded.empty());
    ASSERT_EQ(scan.refused.size(), 1u);
    EXPECT_THAT(scan.refused.front().message(), HasSubstr("writable by others (mode 0777)"));
}

TEST(PluginLoaderDirectory, MissingDirectoryIsOneRefusal) {
    const PluginScan scan = PluginLoader("/nonexistent/sensorsys-plugins").loadAll();
    EXPECT_TRUE(scan.loaded.empty());
    ASSERT_EQ(scan.refused.size(), 1u);
    EXPECT_THAT(scan.refused.front().message(),
                HasSubstr("/nonexistent/sensorsys-plugins: plugin directory does not exist"));
}

}  // namespace
}  // namespace sensorsys::agent
