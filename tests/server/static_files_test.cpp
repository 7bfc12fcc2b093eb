// Which file a dashboard request names: never one outside http.www_dir (traversal, hidden
// names, symlinks pointing out), only regular files; types, validators and gzip.
#include "static_files.hpp"

#include <Poco/InflatingStream.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sensorsys::server {
namespace {

namespace fs = std::filesystem;

class StaticRoot : public ::testing::Test {
  protected:
    StaticRoot() {
        base = fs::temp_directory_path() /
               ("sensorsys-static-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base);
        root = base / "www";
        fs::create_directories(root / "js");
        write(root / "index.html", "<!doctype html>");
        write(root / "js" / "app.js", "export {};");
        write(root / ".hidden", "secret");
        write(base / "outside.txt", "outside");
    }
    ~StaticRoot() override { fs::remove_all(base); }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path) << text;
    }
    std::optional<fs::path> resolve(std::string_view path) const {
        return resolveStaticPath(root, path);
    }

    fs::path base;
    fs::path root;
};

TEST_F(StaticRoot, TheRootNamesIndexAndFilesResolveInsideTheRoot) {
    EXPECT_EQ(resolve("/"), fs::canonical(root / "index.html"));
    EXPECT_EQ(resolve("/index.html"), fs::canonical(root / "index.html"));
    EXPECT_EQ(resolve("/js/app.js"), fs::canonical(root / "js" / "app.js"));
}

TEST_F(StaticRoot, TraversalHiddenNamesAndOddSegmentsAreRefused) {
    for (const char* path : {"/../outside.txt", "/js/../../outside.txt", "/js/../index.html",
                             "/./index.html", "/.hidden", "//index.html", "/js/", "/js",
                             "index.html", "/js\\app.js", "/C:/index.html", "/js/app.js\n"}) {
        EXPECT_FALSE(resolve(path)) << path;
    }
}

TEST_F(StaticRoot, MissingFilesAndAMissingRootAreNotFound) {
    EXPECT_FALSE(resolve("/nope.html"));
    EXPECT_FALSE(resolveStaticPath(base / "no-such-root", "/index.html"));
}

TEST_F(StaticRoot, AnEmptyRootServesNothingNotTheWorkingDirectory) {
    const fs::path before = fs::current_path();
    fs::current_path(root);  // index.html is right here
    const auto found = resolveStaticPath("", "/index.html");
    fs::current_path(before);
    EXPECT_FALSE(found);
}

TEST_F(StaticRoot, ASymlinkOutOfTheRootIsRefusedOneInsideIsServed) {
    fs::create_symlink(base / "outside.txt", root / "escape.txt");
    fs::create_symlink(base, root / "up");
    fs::create_symlink(root / "js" / "app.js", root / "alias.js");
    EXPECT_FALSE(resolve("/escape.txt"));
    EXPECT_FALSE(resolve("/up/outside.txt"));
    EXPECT_EQ(resolve("/alias.js"), fs::canonical(root / "js" / "app.js"));
}

TEST_F(StaticRoot, ARootReachedThroughASymlinkStillServesItsFiles) {
    fs::create_symlink(root, base / "link-to-www");
    EXPECT_EQ(resolveStaticPath(base / "link-to-www", "/index.html"),
              fs::canonical(root / "index.html"));
}

TEST_F(StaticRoot, OnlyRegularFilesAreServed) {
    fs::create_directories(root / "js" / "dir.js");
    EXPECT_FALSE(resolve("/js/dir.js"));
}

TEST(StaticFiles, ContentTypesFollowTheExtension) {
    EXPECT_EQ(staticContentType("a/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(staticContentType("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(staticContentType("style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(staticContentType("favicon.svg"), "image/svg+xml");
    EXPECT_EQ(staticContentType("blob.bin"), "application/octet-stream");
    EXPECT_TRUE(compressibleType("text/css; charset=utf-8"));
    EXPECT_FALSE(compressibleType("image/png"));
}

TEST_F(StaticRoot, TheValidatorChangesWithTheFileAndIfNoneMatchComparesWeakly) {
    const auto first = loadStaticFile(root / "index.html");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->body, "<!doctype html>");
    write(root / "index.html", "<!doctype html><title>x</title>");
    const auto second = loadStaticFile(root / "index.html");
    ASSERT_TRUE(second);
    EXPECT_NE(first->etag, second->etag);
    EXPECT_TRUE(etagMatches(second->etag, second->etag));
    EXPECT_TRUE(etagMatches("\"x\", W/" + second->etag, second->etag));
    EXPECT_TRUE(etagMatches("*", second->etag));
    EXPECT_FALSE(etagMatches(first->etag, second->etag));
    EXPECT_FALSE(etagMatches("", second->etag));
}

TEST(StaticFiles, GzipTextInflatesBackToTheOriginal) {
    const std::string text(10000, 'a');
    const std::string packed = gzipText(text);
    EXPECT_LT(packed.size(), text.size() / 10);
    std::istringstream in(packed);
    Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::ostringstream out;
    out << inflater.rdbuf();
    EXPECT_EQ(out.str(), text);
}

}  // namespace
}  // namespace sensorsys::server
