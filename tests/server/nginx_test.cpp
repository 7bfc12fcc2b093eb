// etc/nginx/sensorsys.conf in front of a real server: a real nginx on loopback (TLS with a
// throwaway certificate), the API round trip through it with curl.
#include "server_fixture.hpp"

#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
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

int freePort() {
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
    return s.address().port();
}

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
    if (!Poco::File("/usr/sbin/nginx").exists() || !Poco::File("/usr/bin/openssl").exists() ||
        !Poco::File("/usr/bin/curl").exists()) {
        GTEST_SKIP() << "nginx, openssl or curl not installed";
    }
    TestServer s;
    char tmpl[] = "/tmp/sensorsys-nginx.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string openssl =
        "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -days 1 -subj /CN=localhost -keyout " +
        dir + "/key.pem -out " + dir + "/cert.pem > /dev/null 2>&1";
    ASSERT_EQ(std::system(openssl.c_str()), 0);

    std::ifstream in(std::string(SENSORSYS_SOURCE_DIR) + "/etc/nginx/sensorsys.conf");
    std::stringstream site;
    site << in.rdbuf();
    const int port = freePort();
    // The shipped site with loopback ports and the throwaway certificate put in.
    std::string conf;
    std::istringstream lines(site.str());
    std::string line;
    while (std::getline(lines, line)) {
        const std::string trimmed = line.substr(std::min(line.find_first_not_of(' '), line.size()));
        if (trimmed.rfind("listen [::]", 0) == 0) continue;
        if (trimmed == "listen 80;") {
            line = "listen 127.0.0.1:" + std::to_string(freePort()) + ";";
        } else if (trimmed.rfind("listen 443 ssl", 0) == 0) {
            line = "listen 127.0.0.1:" + std::to_string(port) + trimmed.substr(10);
        } else if (trimmed.rfind("ssl_certificate ", 0) == 0) {
            line = "ssl_certificate " + dir + "/cert.pem;";
        } else if (trimmed.rfind("ssl_certificate_key ", 0) == 0) {
            line = "ssl_certificate_key " + dir + "/key.pem;";
        } else if (trimmed == "root /usr/share/sensorsys/www;") {
            line = "root " + std::string(SENSORSYS_SOURCE_DIR) + "/www;";
        } else if (trimmed == "server 127.0.0.1:8000;") {
            line = "server 127.0.0.1:" + std::to_string(s.port()) + ";";
        }
        conf += line + "\n";
    }
    std::ofstream(dir + "/site.conf") << conf;
    std::ofstream(dir + "/nginx.conf")
        << "daemon off;\nmaster_process off;\npid " << dir << "/nginx.pid;\nerror_log " << dir
        << "/error.log;\n"
        << "events { worker_connections 64; }\nhttp {\n access_log off;\n client_body_temp_path "
        << dir << "/body;\n proxy_temp_path " << dir << "/proxy;\n fastcgi_temp_path " << dir
        << "/fcgi;\n uwsgi_temp_path " << dir << "/uwsgi;\n scgi_temp_path " << dir
        << "/scgi;\n include " << dir << "/site.conf;\n}\n";
    auto nginx = Poco::Process::launch("/usr/sbin/nginx", {"-p", dir, "-c", dir + "/nginx.conf"});
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

    Poco::Process::kill(nginx);
    nginx.wait();
    Poco::File(dir).remove(true);
}

}  // namespace
}  // namespace sensorsys::server::testing
