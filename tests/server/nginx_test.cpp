// etc/nginx/sensorsys.conf in front of a real server: a real nginx on loopback (TLS with a
// throwaway certificate), the API round trip through it with curl; and the upstream for several
// instances retrying an ingest POST on the next one.
#include "nginx_site.hpp"
#include "scripted_http_server.hpp"
#include "server_fixture.hpp"

#include <Poco/Data/Session.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/Thread.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sensorsys::server::testing {
namespace {

struct Curl {
    int status = 0;
    std::string body;
};

Curl curl(int port, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"-sk", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"};
    args.insert(args.end(), extra.begin(), extra.end());
    Poco::Pipe out;
    auto ph = Poco::Process::launch("/usr/bin/curl", args, nullptr, &out, nullptr);
    Poco::PipeInputStream in(out);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    ph.wait();
    Curl c;
    const auto nl = text.rfind('\n');
    if (nl == std::string::npos) return c;
    c.body = text.substr(0, nl);
    c.status = std::atoi(text.c_str() + nl + 1);
    (void)port;
    return c;
}

TEST(Nginx, TheApiRoundTripWorksThroughTheShippedSiteConfig) {
    if (!sensorsys::test::NginxSite::available(true)) {
        GTEST_SKIP() << "nginx, python3, openssl or curl not installed";
    }
    TestServer s;
    sensorsys::test::NginxSite nginx(SENSORSYS_SOURCE_DIR, {{s.port()}, false, true});
    const int port = nginx.port();
    const std::string dir = nginx.folder();
    const std::string base = "https://127.0.0.1:" + std::to_string(port);
    Curl health;
    for (int attempt = 0; attempt < 100 && health.status != 200; ++attempt) {
        health = curl(port, {base + "/health"});
        if (health.status != 200) Poco::Thread::sleep(100);
    }
    EXPECT_EQ(health.status, 200);
    EXPECT_NE(health.body.find("\"database\": \"ok\""), std::string::npos);

    const auto created = curl(port, {"-H", "Content-Type: application/json", "--data-binary",
                                     readingJson("via-nginx", 1, uuidFor(1)), base + "/readings"});
    EXPECT_EQ(created.status, 201) << created.body;
    // A 2 MB bulk body passes nginx's body limit (the config raises it to the server's).
    std::string bulk = "{\"readings\": [";
    for (int i = 0; i < 2000; ++i)
        bulk += (i ? ", " : "") + readingJson("via-nginx", i, uuidFor(100 + i));
    bulk += "], \"pad\": \"" + std::string(1500000, 'p') + "\"}";
    std::ofstream(dir + "/bulk.json") << bulk;
    const auto bulkReply = curl(port, {"-H", "Content-Type: application/json", "--data-binary",
                                       "@" + dir + "/bulk.json", base + "/readings/bulk"});
    EXPECT_EQ(bulkReply.status, 200) << bulkReply.body;
    const auto latest = curl(port, {base + "/readings/latest?device_id=via-nginx"});
    EXPECT_EQ(latest.status, 200);
    EXPECT_NE(latest.body.find("via-nginx"), std::string::npos);
    const auto range = curl(
        port, {base + "/readings?start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z"});
    EXPECT_EQ(range.status, 200);
    EXPECT_EQ(std::count(range.body.begin(), range.body.end(), '{') > 60, true);
    // The dashboard's files come from the folder the site names (here the checkout's www/).
    const auto page = curl(port, {base + "/"});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<title>sensorsys</title>"), std::string::npos);
    EXPECT_EQ(curl(port, {base + "/js/app.js"}).status, 200);
    // The live feed: the WebSocket handshake passes (101, the server's accept key) and the
    // first frame (the latest reading) follows; the event stream arrives unbuffered.
    const auto live = curl(
        port, {"--http1.1", "-i", "--max-time", "3", "-H", "Connection: Upgrade", "-H",
               "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", base + "/live?device_id=via-nginx"});
    EXPECT_EQ(live.status, 101) << live.body;
    EXPECT_NE(live.body.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << live.body;
    EXPECT_NE(live.body.find("\"type\": \"reading\""), std::string::npos) << live.body;
    const auto stream = curl(port, {"-N", "--max-time", "3", base + "/readings/stream"});
    EXPECT_EQ(stream.status, 200);
    EXPECT_NE(stream.body.find("data: {\"type\": \"reading\""), std::string::npos) << stream.body;
    const auto metrics = curl(port, {base + "/metrics"});
    EXPECT_EQ(metrics.status, 200);
}

// The site with the upstream of etc/nginx/sensorsys-instances.conf: an instance that takes an
// ingest POST and drops the connection unanswered (as a killed one does) is not the client's
// problem: nginx sends the POST to the next instance (non_idempotent on the ingest routes), and
// the reading is stored once.
TEST(Nginx, AnIngestPostAnInstanceDroppedUnansweredGoesToTheNextInstanceAndIsStoredOnce) {
    if (!sensorsys::test::NginxSite::available(false)) {
        GTEST_SKIP() << "nginx or python3 not installed";
    }
    TestServer s;
    sensorsys::test::ScriptedHttpServer dropping;
    dropping.setFallback(sensorsys::test::reply(200, "", "", true));
    const int droppingPort = std::stoi(dropping.url().substr(dropping.url().rfind(':') + 1));
    sensorsys::test::NginxSite nginx(SENSORSYS_SOURCE_DIR, {{droppingPort, s.port()}, true, false});
    for (int i = 0; i < 4; ++i) {
        const auto r = call(nginx.port(), "POST", "/readings",
                            readingJson("via-instances", i, uuidFor(500 + i)));
        EXPECT_EQ(r.status, 201) << i << ": " << r.body;
    }
    int dropped = 0;
    for (const auto& seen : dropping.seen()) dropped += seen.method == "POST" ? 1 : 0;
    EXPECT_GE(dropped, 1) << "no POST went to the dropping instance: nothing was retried";
    Poco::Data::Session db("PostgreSQL", s.db.connection());
    int rows = 0;
    db << "SELECT count(*)::int4 FROM sensor_project.readings WHERE device_id = 'via-instances'",
        Poco::Data::Keywords::into(rows), Poco::Data::Keywords::now;
    EXPECT_EQ(rows, 4);
}

}  // namespace
}  // namespace sensorsys::server::testing
