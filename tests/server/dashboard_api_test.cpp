// The dashboard's routes over real HTTP against a real PostgreSQL: the admin-only token API
// (list without secrets, create shown once, revoke at once, 403 for read and device tokens,
// last use written at most once a minute) and the static files (open without a token, ETag and
// 304, gzip, security headers, no dashboard when the folder is missing).
#include "server_fixture.hpp"
#include "token_store.hpp"

#include <Poco/InflatingStream.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sensorsys::server::testing {
namespace {

namespace fs = std::filesystem;

Poco::JSON::Array::Ptr array(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
}

Poco::JSON::Object::Ptr object(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

class TokensApi : public ::testing::Test {
  protected:
    explicit TokensApi(int cacheSeconds = 0)
        : server([cacheSeconds](ServerConfig& c) {
              c.authEnabled = true;
              c.authCacheSeconds = cacheSeconds;
          }) {
        auto session = ConnectionPool::connect(server.db.connection(), 5);
        TokenStore tokens(session);
        admin = tokens.create(Scope::Admin, "");
        reader = tokens.create(Scope::Read, "");
        device = tokens.create(Scope::Device, "pi-1");
    }
    HttpReply as(const std::string& token, const std::string& method, const std::string& target,
                 const std::string& body = "") {
        HeaderList headers{{"Authorization", "Bearer " + token}};
        if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
        return call(server.port(), method, target, body, headers);
    }
    std::string lastUsed(std::int64_t id) {
        auto session = ConnectionPool::connect(server.db.connection(), 5);
        std::string value;
        Poco::Int64 key = id;
        session << "SELECT COALESCE(last_used_at::text, '') FROM sensor_project.api_tokens"
                   " WHERE id = $1",
            Poco::Data::Keywords::use(key), Poco::Data::Keywords::into(value),
            Poco::Data::Keywords::now;
        return value;
    }

    TestServer server;
    std::string admin, reader, device;
};

TEST_F(TokensApi, AdminListsActiveTokensWithoutTheirSecrets) {
    const auto r = as(admin, "GET", "/tokens");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find(admin), std::string::npos);
    EXPECT_EQ(r.body.find("sha256"), std::string::npos);
    const auto list = array(r.body);
    ASSERT_EQ(list->size(), 3u);
    const auto third = list->getObject(2);
    EXPECT_EQ(third->getValue<std::string>("scope"), "device");
    EXPECT_EQ(third->getValue<std::string>("device_id"), "pi-1");
    EXPECT_FALSE(third->getValue<std::string>("created").empty());
    EXPECT_TRUE(third->isNull("last_used"));
    EXPECT_TRUE(list->getObject(0)->isNull("device_id"));
    EXPECT_FALSE(third->has("token"));
}

TEST_F(TokensApi, CreateAnswers201WithATokenThatWorksAndIsListed) {
    const auto r = as(admin, "POST", "/tokens", R"({"scope": "device", "device_id": "pi-9"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto created = object(r.body);
    const std::string token = created->getValue<std::string>("token");
    EXPECT_EQ(created->getValue<std::string>("scope"), "device");
    EXPECT_EQ(created->getValue<std::string>("device_id"), "pi-9");
    const auto check = as(token, "GET", "/auth/check");
    ASSERT_EQ(check.status, 200);
    EXPECT_EQ(object(check.body)->getValue<std::string>("device_id"), "pi-9");
    const auto list = array(as(admin, "GET", "/tokens").body);
    EXPECT_EQ(list->getObject(list->size() - 1)->getValue<std::int64_t>("id"),
              created->getValue<std::int64_t>("id"));
    EXPECT_EQ(as(admin, "POST", "/tokens", R"({"scope": "read"})").status, 201);
}

TEST_F(TokensApi, InvalidCreateRequestsAreRefusedNamingTheField) {
    struct Case {
        const char* body;
        int status;
        const char* mentions;
    };
    for (const Case& c : {Case{R"({"scope": "root"})", 422, "scope"},
                          Case{R"({"scope": "device"})", 422, "device_id"},
                          Case{R"({"scope": "read", "device_id": "pi-1"})", 422, "device_id"},
                          Case{R"({"scope": 3})", 422, "string"},
                          Case{R"({"scope": )", 400, "JSON"}, Case{"[1]", 400, "object"}}) {
        SCOPED_TRACE(c.body);
        const auto r = as(admin, "POST", "/tokens", c.body);
        EXPECT_EQ(r.status, c.status) << r.body;
        EXPECT_NE(r.body.find(c.mentions), std::string::npos) << r.body;
    }
    EXPECT_EQ(array(as(admin, "GET", "/tokens").body)->size(), 3u);
}

TEST_F(TokensApi, ReadAndDeviceTokensGet403OnEveryTokenRoute) {
    for (const auto& token : {reader, device}) {
        EXPECT_EQ(as(token, "GET", "/tokens").status, 403);
        EXPECT_EQ(as(token, "POST", "/tokens", R"({"scope": "admin"})").status, 403);
        EXPECT_EQ(as(token, "DELETE", "/tokens/1").status, 403);
    }
    EXPECT_EQ(call(server.port(), "GET", "/tokens").status, 401);
    EXPECT_EQ(array(as(admin, "GET", "/tokens").body)->size(), 3u);
}

TEST_F(TokensApi, UnknownOrMalformedIdsAre404) {
    EXPECT_EQ(as(admin, "DELETE", "/tokens/999").status, 404);
    EXPECT_EQ(as(admin, "DELETE", "/tokens/abc").status, 404);
    EXPECT_EQ(as(admin, "DELETE", "/tokens/-1").status, 404);
}

TEST_F(TokensApi, LastUseIsWrittenOnceNotOnEveryRequest) {
    const auto id = *tokenId(reader);
    EXPECT_EQ(lastUsed(id), "");
    ASSERT_EQ(as(reader, "GET", "/devices").status, 200);
    const std::string first = lastUsed(id);
    EXPECT_FALSE(first.empty());
    // Within a minute of the write, more uses (each one verified against the database: the
    // cache is off here) leave it as it was, to the microsecond.
    for (int i = 0; i < 20; ++i) ASSERT_EQ(as(reader, "GET", "/devices").status, 200);
    EXPECT_EQ(lastUsed(id), first);
}

class CachedTokensApi : public TokensApi {
  protected:
    CachedTokensApi() : TokensApi(3600) {}
};

TEST_F(CachedTokensApi, ARevokedTokenIsRefusedAtOnceDespiteTheCache) {
    ASSERT_EQ(as(reader, "GET", "/devices").status, 200);  // now cached for an hour
    const auto id = std::to_string(*tokenId(reader));
    EXPECT_EQ(as(admin, "DELETE", "/tokens/" + id).status, 204);
    EXPECT_EQ(as(reader, "GET", "/devices").status, 401);
    EXPECT_EQ(as(admin, "DELETE", "/tokens/" + id).status, 404);
    EXPECT_EQ(array(as(admin, "GET", "/tokens").body)->size(), 2u);
}

class DashboardFiles : public ::testing::Test {
  protected:
    DashboardFiles() {
        root = fs::temp_directory_path() /
               ("sensorsys-www-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(root / "js");
        std::ofstream(root / "index.html") << "<!doctype html><title>sensorsys</title>";
        std::ofstream(root / "js" / "app.js")
            << "export const x = '" << std::string(4000, 'x') << "';";
        std::ofstream(root / "chart.js") << "window.Chart = 1;";
    }
    ~DashboardFiles() override { fs::remove_all(root); }

    TestServer serve(const fs::path& www) {
        return TestServer([&](ServerConfig& c) {
            c.authEnabled = true;
            c.wwwDir = www.string();
            c.chartJsPath = (root / "chart.js").string();
        });
    }

    fs::path root;
};

TEST_F(DashboardFiles, ThePageIsServedWithoutATokenWithItsHeaders) {
    auto s = serve(root);
    for (const char* path : {"/", "/index.html"}) {
        const auto r = call(s.port(), "GET", path);
        ASSERT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body, "<!doctype html><title>sensorsys</title>");
        EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
        EXPECT_EQ(r.header("Cache-Control"), "no-cache");
        EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
        EXPECT_NE(r.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
        EXPECT_FALSE(r.header("ETag").empty());
    }
    const auto chart = call(s.port(), "GET", "/vendor/chart.js");
    EXPECT_EQ(chart.status, 200);
    EXPECT_EQ(chart.body, "window.Chart = 1;");
    EXPECT_EQ(object(call(s.port(), "GET", "/dashboard.json").body)->getValue<bool>("auth_enabled"),
              true);
    EXPECT_EQ(call(s.port(), "GET", "/devices").status, 401);  // the API still wants its token
}

TEST_F(DashboardFiles, AMatchingETagIs304WithoutABody) {
    auto s = serve(root);
    const auto first = call(s.port(), "GET", "/js/app.js");
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.header("Content-Type"), "text/javascript; charset=utf-8");
    const auto again =
        call(s.port(), "GET", "/js/app.js", "", {{"If-None-Match", first.header("ETag")}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(call(s.port(), "GET", "/js/app.js", "", {{"If-None-Match", "\"other\""}}).status,
              200);
}

TEST_F(DashboardFiles, GzipIsSentOnlyWhenAccepted) {
    auto s = serve(root);
    const auto plain = call(s.port(), "GET", "/js/app.js");
    EXPECT_TRUE(plain.header("Content-Encoding").empty());
    const auto packed = call(s.port(), "GET", "/js/app.js", "", {{"Accept-Encoding", "gzip, br"}});
    ASSERT_EQ(packed.header("Content-Encoding"), "gzip");
    EXPECT_LT(packed.body.size(), plain.body.size() / 4);
    std::istringstream in(packed.body);
    Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
    std::ostringstream out;
    out << inflater.rdbuf();
    EXPECT_EQ(out.str(), plain.body);
    EXPECT_TRUE(call(s.port(), "GET", "/js/app.js", "", {{"Accept-Encoding", "gzip;q=0"}})
                    .header("Content-Encoding")
                    .empty());
}

TEST_F(DashboardFiles, UnknownFilesAndTraversalAre404AndOtherPathsStayTheApis) {
    auto s = serve(root);
    EXPECT_EQ(call(s.port(), "GET", "/js/nope.js").status, 404);
    EXPECT_EQ(call(s.port(), "GET", "/js/..%2F..%2Fetc%2Fpasswd").status, 404);
    EXPECT_EQ(call(s.port(), "GET", "/js/..").status, 404);
    const auto unknown = call(s.port(), "GET", "/chart.js");  // a file, but not a dashboard path
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.header("Content-Type"), "application/json");
    EXPECT_EQ(call(s.port(), "POST", "/").status, 405);
}

TEST_F(DashboardFiles, AMissingFolderMeansNoDashboardAndTheApiIsUnaffected) {
    auto s = serve(root / "missing");
    EXPECT_EQ(call(s.port(), "GET", "/").status, 404);
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

}  // namespace
}  // namespace sensorsys::server::testing
