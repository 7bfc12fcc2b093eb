// The server alone on the internet: raw-socket requests that a lenient HTTP/1.1 parser would
// frame differently from a strict one (request smuggling), that would hang a thread, or that
// were answered with 500. Each case sends its bytes followed by a hidden probe request that
// stores a reading of its own device; the case says whether the probe may run (it must not
// when the framing of what came before is in doubt), and the database is asked afterwards.
#include "raw_http.hpp"
#include "server_fixture.hpp"
#include "token_store.hpp"

#include <Poco/Net/NetException.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sensorsys::server::testing {
namespace {

const std::string kRange =
    "/readings?start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z";
constexpr const char* kPost =
    "POST /readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

// The hidden request: stores a reading of device "probe-<id>", then the server closes.
std::string probe(const std::string& id) {
    const std::string body = readingJson("probe-" + id, 1);
    return std::string(kPost) +
           "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

std::string chunkedOf(const std::string& body) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

struct Reply {
    int status = 0;
    std::string head;
};

struct Exchange {
    std::vector<Reply> replies;
    bool closed = false;  // the server closed the connection (not our read timeout)
};

// Reads until the server closes; responses are split by their framing (Content-Length or
// chunked; HEAD answers have no body).
Exchange exchange(int port, const std::string& bytes, bool halfClose = false,
                  bool headFirst = false) {
    auto s = rawConnect(port);
    s.setReceiveTimeout(Poco::Timespan(8, 0));
    rawSend(s, bytes);
    if (halfClose) s.shutdownSend();
    std::string data;
    Exchange ex;
    char buf[16384];
    try {
        for (;;) {
            const int n = s.receiveBytes(buf, sizeof buf);
            if (n <= 0) {
                ex.closed = true;
                break;
            }
            data.append(buf, static_cast<std::size_t>(n));
        }
    } catch (const Poco::TimeoutException&) {
    } catch (const Poco::Net::NetException&) {
        ex.closed = true;
    }
    std::size_t pos = 0;
    while (pos < data.size()) {
        const auto end = data.find("\r\n\r\n", pos);
        if (end == std::string::npos || data.compare(pos, 5, "HTTP/") != 0) break;
        Reply r;
        r.head = data.substr(pos, end - pos);
        r.status = std::atoi(r.head.substr(9, 3).c_str());
        pos = end + 4;
        const std::string lower = Poco::toLower(r.head);
        const bool noBody = (headFirst && ex.replies.empty()) || r.status == 100;
        if (noBody) {
        } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
            const auto last = data.find("\r\n0\r\n\r\n", pos);
            pos = last == std::string::npos ? data.size() : last + 7;
        } else if (const auto cl = lower.find("content-length:"); cl != std::string::npos) {
            pos += std::stoul(lower.substr(cl + 15));
        }
        if (r.status != 100) ex.replies.push_back(r);
    }
    return ex;
}

bool stored(int port, const std::string& id) {
    return call(port, "GET", "/readings/latest?device_id=probe-" + id).status == 200;
}

struct Case {
    std::string name;
    std::string bytes;  // sent before the probe
    int status;         // the first answer's status; 0: no answer at all
    bool probeRuns;     // the probe after it is served (the framing was sound)
    bool halfClose = false;
};

void runCases(int port, const std::vector<Case>& cases) {
    int n = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string id = std::to_string(n++) + "-" + std::to_string(std::rand());
        const Exchange ex = exchange(port, c.bytes + (c.halfClose ? "" : probe(id)), c.halfClose,
                                     c.bytes.rfind("HEAD", 0) == 0);
        EXPECT_TRUE(ex.closed) << "the server did not close the connection";
        if (c.status == 0) {
            EXPECT_TRUE(ex.replies.empty());
        } else {
            ASSERT_FALSE(ex.replies.empty()) << "no answer";
            EXPECT_EQ(ex.replies.front().status, c.status) << ex.replies.front().head;
        }
        if (c.halfClose) continue;
        EXPECT_EQ(stored(port, id), c.probeRuns);
        if (c.probeRuns) {
            EXPECT_EQ(ex.replies.size(), 2U);
        }
    }
}

std::string get(const std::string& target, const std::string& fields = "Host: x\r\n") {
    return "GET " + target + " HTTP/1.1\r\n" + fields + "\r\n";
}

std::string post(const std::string& fields, const std::string& body) {
    return std::string(kPost) + fields + "\r\n" + body;
}

std::vector<Case> smugglingCases() {
    const std::string hidden = probe("smuggled");  // inside a body: must never run either
    const std::string reading = readingJson("body-reading", 2);
    std::vector<Case> v = {
        {"CL and TE chunked",
         post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400, false},
        {"TE chunked and CL",
         post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "0\r\n\r\n"), 400, false},
        {"two CL different", post("Content-Length: 0\r\nContent-Length: 5\r\n", "12345"), 400,
         false},
        {"two CL same", post("Content-Length: 5\r\nContent-Length: 5\r\n", "12345"), 400, false},
        {"CL list", post("Content-Length: 1,2\r\n", "12"), 400, false},
        {"CL list same", post("Content-Length: 5, 5\r\n", "12345"), 400, false},
        {"TE obs-fold", post("Transfer-Encoding: identity\r\n chunked\r\n", "0\r\n\r\n"), 400,
         false},
        {"TE obs-fold tab", post("Transfer-Encoding:\r\n\tchunked\r\n", "0\r\n\r\n"), 400, false},
        {"other obs-fold", post("X-A: b\r\n c\r\nContent-Length: 0\r\n", ""), 400, false},
        {"garbage chunk size", post("Transfer-Encoding: chunked\r\n", "zz\r\n"), 400, false},
        {"chunk size then garbage",
         post("Transfer-Encoding: chunked\r\n", "5x\r\nhello\r\n0\r\n\r\n"), 400, false},
        {"chunk size with leading space",
         post("Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n"), 400, false},
        {"chunk size overflow",
         post("Transfer-Encoding: chunked\r\n", "10000000000000005\r\nhello\r\n0\r\n\r\n"), 400,
         false},
        {"chunk size negative", post("Transfer-Encoding: chunked\r\n", "-5\r\nhello\r\n0\r\n\r\n"),
         400, false},
        {"chunk size 0x prefix",
         post("Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"), 400, false},
        {"chunk data without CRLF", post("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX0\r\n\r\n"),
         400, false},
        {"chunk data with bare LF", post("Transfer-Encoding: chunked\r\n", "5\r\nhello\n0\r\n\r\n"),
         400, false},
        {"chunk size line bare LF", post("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"),
         400, false},
        {"chunk ext with control",
         post("Transfer-Encoding: chunked\r\n", "5;a\x01\r\nhello\r\n0\r\n\r\n"), 400, false},
        {"trailer without colon",
         post("Transfer-Encoding: chunked\r\n",
              chunkedOf(reading).substr(0, chunkedOf(reading).size() - 2) + "bad\r\n\r\n"),
         400, false},
        {"bare LF then short line", "GET /health HTTP/1.1\nHost: x\nX: y\n\n", 400, false},
        {"bare LF inside header", "GET /health HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400, false},
        {"bare LF ends header", "GET /health HTTP/1.1\r\nHost: x\r\n\n", 400, false},
        {"bare CR in header", "GET /health HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400, false},
        {"TE chunked then identity",
         post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "0\r\n\r\n"), 400,
         false},
        {"TE chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), 400,
         false},
        {"TE gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501, false},
        {"TE identity", post("Transfer-Encoding: identity\r\n", ""), 400, false},
        {"TE gzip", post("Transfer-Encoding: gzip\r\n", ""), 400, false},
        {"TE chunked twice", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400,
         false},
        {"TE empty", post("Transfer-Encoding: \r\n", ""), 400, false},
        {"TE xchunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 400, false},
        {"TE chunked in HTTP/1.0",
         "POST /readings HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: "
         "chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n",
         400, false},
        {"space before colon CL", post("Content-Length : 0\r\n", ""), 400, false},
        {"space before colon TE", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), 400, false},
        {"tab before colon", post("Content-Length\t: 0\r\n", ""), 400, false},
        {"NUL in field name", post(std::string("X-A\0B: 1\r\nContent-Length: 0\r\n", 28), ""), 400,
         false},
        {"NUL in field value", post(std::string("X-A: \0\r\nContent-Length: 0\r\n", 25), ""), 400,
         false},
        {"line without colon", post("NoColonHere\r\nContent-Length: 0\r\n", ""), 400, false},
        {"CL longer than the body hides the probe", post("Content-Length: 10\r\n", ""), 400, false},
        {"chunked body hiding a request", post("Transfer-Encoding: chunked\r\n", chunkedOf(hidden)),
         400, true},
    };
    return v;
}

TEST(Framing, SmugglingAttemptsAreRefusedAndNothingAfterThemRuns) {
    TestServer s([](ServerConfig& c) { c.headerTimeoutSeconds = 1; });
    auto cases = smugglingCases();
    // "CL longer than the body": the probe is eaten as the body (400: not a reading), and the
    // connection then closes; "chunked body hiding a request": the body is a request, not a
    // reading (400), and the real probe after it runs.
    runCases(s.port(), cases);
    EXPECT_FALSE(stored(s.port(), "smuggled"));
}

TEST(Framing, BodiesCutByTheEndOfTheConnectionAreNotStored) {
    TestServer s([](ServerConfig& c) { c.headerTimeoutSeconds = 1; });
    const std::string reading = readingJson("probe-cut", 1);
    const std::string chunked = chunkedOf(reading);
    const std::vector<Case> cases = {
        {"chunked body without last chunk",
         post("Transfer-Encoding: chunked\r\n", chunked.substr(0, chunked.size() - 5)), 400, false,
         true},
        {"chunked body without final CRLF",
         post("Transfer-Encoding: chunked\r\n", chunked.substr(0, chunked.size() - 2)), 400, false,
         true},
        {"chunked body cut in a chunk",
         post("Transfer-Encoding: chunked\r\n", chunked.substr(0, 20)), 400, false, true},
        {"length body cut",
         post("Content-Length: " + std::to_string(reading.size() + 5) + "\r\n", reading), 400,
         false, true},
        {"header section cut", "GET /health HTTP/1.1\r\nHost: x\r\n", 400, false, true},
        {"request line cut", "GET /hea", 400, false, true},
    };
    runCases(s.port(), cases);
    EXPECT_EQ(call(s.port(), "GET", "/readings/latest?device_id=probe-cut").status, 404);
}

std::vector<Case> promptAnswerCases() {
    return {
        {"POST without length has an empty body", post("", ""), 400, true},
        {"unknown method", "FOO /health HTTP/1.1\r\nHost: x\r\n\r\n", 501, false},
        {"non-token method", "G(T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"overlong method", std::string(40, 'G') + " /health HTTP/1.1\r\nHost: x\r\n\r\n", 501,
         false},
        {"CONNECT", "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", 501, false},
        {"OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
        {"GET asterisk", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"PUT has no body framing issue",
         "PUT /readings HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, true},
        {"DELETE without length", "DELETE /readings HTTP/1.1\r\nHost: x\r\n\r\n", 405, true},
        {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, false},
        {"HTTP/0.9 request line", "GET /health\r\n", 400, false},
        {"HTTP/0.9 request line with CRLF", "GET /health\r\n\r\n", 400, false},
        {"TLS ClientHello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400,
         false},
        {"SSLv2 hello", std::string("\x80\x2e\x01\x00\x02", 5), 400, false},
        {"binary garbage", std::string("\x00\x01\x02\x03", 4), 400, false},
        {"empty request line", "\r\n\r\n\r\n \r\n", 400, false},
    };
}

TEST(Framing, EveryRequestIsAnsweredAtOnceNeverAfterATimeout) {
    // http.timeout stays 30 s: a case waiting for it fails on the client's 8 s read timeout.
    TestServer s;
    runCases(s.port(), promptAnswerCases());
}

std::vector<Case> strictParsingCases() {
    const std::string range = kRange;
    std::string manyFields;
    for (int i = 0; i < 200; ++i) manyFields += "X-F" + std::to_string(i) + ": 1\r\n";
    std::string noColonLines;
    for (int i = 0; i < 20000; ++i)
        noColonLines += "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    return {
        {"missing Host", "GET /health HTTP/1.1\r\n\r\n", 400, false},
        {"duplicate Host", get("/health", "Host: x\r\nHost: y\r\n"), 400, false},
        {"Host with space", get("/health", "Host: a b\r\n"), 400, false},
        {"Host with slash", get("/health", "Host: a/b\r\n"), 400, false},
        {"HTTP/1.0 without Host", "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200,
         true},
        {"HTTP/1.0 closes by default", "GET /health HTTP/1.0\r\n\r\n", 200, false},
        {"bogus protocol", "GET /health FOO/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"lower-case protocol", "GET /health http/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"HTTP/1.2 served as 1.1", "GET /health HTTP/1.2\r\nHost: x\r\n\r\n", 200, true},
        {"HTTP/2.0", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505, false},
        {"HTTP/3.0", "GET /health HTTP/3.0\r\nHost: x\r\n\r\n", 505, false},
        {"HTTP/1.10", "GET /health HTTP/1.10\r\nHost: x\r\n\r\n", 400, false},
        {"HTTP/1", "GET /health HTTP/1\r\nHost: x\r\n\r\n", 400, false},
        {"absolute-form", "GET http://x/health HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
        {"absolute-form https", "GET HTTPS://example.org:8443/health HTTP/1.1\r\nHost: y\r\n\r\n",
         200, true},
        {"absolute-form without path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", 404, true},
        {"absolute-form with userinfo", "GET http://u@x/health HTTP/1.1\r\nHost: x\r\n\r\n", 400,
         false},
        {"absolute-form other scheme", "GET ftp://x/health HTTP/1.1\r\nHost: x\r\n\r\n", 400,
         false},
        {"authority-form on GET", "GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"two spaces in request line", "GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"tab in request line", "GET\t/health HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"trailing space in request line", "GET /health HTTP/1.1 \r\nHost: x\r\n\r\n", 400, false},
        {"space in target", "GET /hea lth HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"ESC in target", "GET /health\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"DEL in target", "GET /health\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"non-ASCII in target", "GET /h\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"fragment in target", "GET /health#x HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"target of 9000 bytes", get("/" + std::string(9000, 'a')), 414, false},
        {"target of 64 KiB", get("/" + std::string(65536, 'a')), 414, false},
        {"header section of 20 KiB",
         get("/health", "Host: x\r\nX-A: " + std::string(7000, 'a') + "\r\nX-B: " +
                            std::string(7000, 'a') + "\r\nX-C: " + std::string(7000, 'a') + "\r\n"),
         431, false},
        {"field of 9000 bytes",
         get("/health", "Host: x\r\nX-A: " + std::string(9000, 'a') + "\r\n"), 431, false},
        {"field name of 300 bytes",
         get("/health", "Host: x\r\n" + std::string(300, 'a') + ": 1\r\n"), 431, false},
        {"200 fields", get("/health", "Host: x\r\n" + manyFields), 431, false},
        {"1 MB of lines without colon", get("/health", "Host: x\r\n" + noColonLines), 431, false},
        {"Connection: keep-alive, close",
         get("/health", "Host: x\r\nConnection: keep-alive, close\r\n"), 200, false},
        {"Connection: close", get("/health", "Host: x\r\nConnection: close\r\n"), 200, false},
        {"Connection: CLOSE", get("/health", "Host: x\r\nConnection: CLOSE\r\n"), 200, false},
        {"Connection: Upgrade", get("/health", "Host: x\r\nConnection: Upgrade\r\n"), 200, true},
        {"two Authorization fields",
         get("/health", "Host: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n"), 400,
         false},
        {"HEAD on a streamed range keeps the connection",
         "HEAD " + range + " HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
        {"leading empty lines", "\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
        {"chunked trailers",
         post("Transfer-Encoding: chunked\r\n",
              chunkedOf(readingJson("t", 1)).substr(0, chunkedOf(readingJson("t", 1)).size() - 2) +
                  "X-T: 1\r\nX-U: 2\r\n\r\n"),
         201, true},
        {"chunk extensions",
         post("Transfer-Encoding: chunked\r\n", "2;a=b;c=\"d\"\r\n{}\r\n0 ; e\r\n\r\n"), 422, true},
        {"TE Chunked in capitals", post("Transfer-Encoding: Chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"),
         422, true},
        {"many small chunks",
         post("Transfer-Encoding: chunked\r\n", "1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"), 422, true},
        {"CL with OWS", post("Content-Length:  2 \r\n", "{}"), 422, true},
        {"CL with leading zeros", post("Content-Length: 002\r\n", "{}"), 422, true},
        {"pipelined valid request", get("/health"), 200, true},
        {"Expect 100-continue", post("Expect: 100-continue\r\nContent-Length: 2\r\n", "{}"), 422,
         true},
    };
}

TEST(Framing, HeadersAreParsedStrictlyAsRfc9112Says) {
    TestServer s;
    runCases(s.port(), strictParsingCases());
}

std::vector<Case> badLengthCases() {
    std::vector<Case> v;
    for (const std::string target : {"/health", "/readings", "/nope"}) {
        for (const std::string value :
             {"-1", "", "+5", "1,2", "0x5", "5 5", "1e3", "99999999999999999999", "five"}) {
            const std::string method = target == "/readings" ? "POST " : "GET ";
            v.push_back(
                {method + target + " with Content-Length '" + value + "'",
                 method + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + "\r\n\r\n",
                 400, false});
        }
    }
    return v;
}

TEST(Framing, BadContentLengthIs400OnEveryRouteNever500) {
    TestServer s;
    runCases(s.port(), badLengthCases());
}

TEST(Framing, ThereIsARealStatusLineForAVersionBeyondOnePointOne) {
    TestServer s;
    const Exchange ex =
        exchange(s.port(), "GET /health HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(ex.replies.size(), 1U);
    EXPECT_EQ(ex.replies.front().head.rfind("HTTP/1.1 200", 0), 0U) << ex.replies.front().head;
}

// Slow clients with a short http.header_timeout: each is cut, none holds its thread.
TEST(Framing, SlowHeaderSectionsAndBodiesAreCut) {
    TestServer s([](ServerConfig& c) {
        c.headerTimeoutSeconds = 1;
        c.minBodyRate = 100000;
    });
    const auto started = std::chrono::steady_clock::now();
    auto slowloris = rawConnect(s.port());
    slowloris.setReceiveTimeout(Poco::Timespan(8, 0));
    rawSend(slowloris, "GET /health HTTP/1.1\r\n");
    std::string reply;
    for (int i = 0; i < 40; ++i) {  // one header byte every 100 ms, far beyond 1 s
        try {
            rawSend(slowloris, "X");
        } catch (const Poco::Exception&) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const RawReply r = rawReceive(slowloris);
    EXPECT_EQ(r.status, 408);

    auto upload = rawConnect(s.port());
    upload.setReceiveTimeout(Poco::Timespan(8, 0));
    rawSend(upload, post("Content-Length: 1000000\r\n", "[{"));
    const RawReply u = rawReceive(upload);  // no more bytes: cut after the grace
    EXPECT_EQ(u.status, 400);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(12));
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

std::string bulkOf(int from, int count) {
    std::string body = "{\"readings\": [";
    for (int i = 0; i < count; ++i) {
        if (i) body += ", ";
        body += readingJson("many", from + i, uuidFor(from + i));
    }
    return body + "]}";
}

// A client that stops reading a streamed answer is cut after http.send_timeout: what it reads
// afterwards ends before the whole range.
TEST(Framing, AClientThatStopsReadingIsCut) {
    TestServer s([](ServerConfig& c) { c.sendTimeoutSeconds = 1; });
    for (int from = 0; from < 30000; from += 10000) {
        ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulkOf(from, 10000)).status, 200);
    }
    const std::size_t full = call(s.port(), "GET", kRange).body.size();
    std::vector<Poco::Net::StreamSocket> stalled;
    for (int i = 0; i < 3; ++i) {
        Poco::Net::StreamSocket sock(Poco::Net::SocketAddress::IPv4);
        sock.setReceiveBufferSize(4096);
        sock.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(s.port())));
        sock.setReceiveTimeout(Poco::Timespan(8, 0));
        rawSend(sock, get(kRange));
        stalled.push_back(sock);
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));
    for (auto& sock : stalled) {
        std::size_t total = 0;
        char buf[65536];
        try {
            for (;;) {
                const int n = sock.receiveBytes(buf, sizeof buf);
                if (n <= 0) break;
                total += static_cast<std::size_t>(n);
            }
        } catch (const Poco::Exception&) {
            // reset: also a cut
        }
        EXPECT_LT(total, full);
    }
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

// Waiting clients hold no thread: with 4 request threads, 100 connections that sent half a
// header section and 100 idle ones do not keep /health from being answered.
TEST(Framing, SlowAndIdleConnectionsDoNotHoldRequestThreads) {
    TestServer s([](ServerConfig& c) {
        c.minThreads = 1;
        c.maxThreads = 4;
    });
    std::vector<Poco::Net::StreamSocket> waiting;
    for (int i = 0; i < 100; ++i) {
        waiting.push_back(rawConnect(s.port()));
        rawSend(waiting.back(), "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        waiting.push_back(rawConnect(s.port()));
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
    // Each half-sent request is still served once its head is complete.
    rawSend(waiting.front(), "1\r\n\r\n");
    EXPECT_EQ(rawReceive(waiting.front()).status, 200);
}

// Above http.max_connections a new connection is closed at once; below it, served again.
TEST(Framing, ConnectionsOverTheLimitAreClosedAtOnce) {
    TestServer s([](ServerConfig& c) { c.maxConnections = 10; });
    std::vector<Poco::Net::StreamSocket> idle;
    for (int i = 0; i < 10; ++i) idle.push_back(rawConnect(s.port()));
    // Let the server accept them all before the one over the limit.
    rawSend(idle.back(), get("/health"));
    EXPECT_EQ(rawReceive(idle.back()).status, 200);
    auto over = rawConnect(s.port());
    over.setReceiveTimeout(Poco::Timespan(5, 0));
    char byte = 0;
    int n = -1;
    try {
        rawSend(over, get("/health"));
        n = over.receiveBytes(&byte, 1);
    } catch (const Poco::Net::NetException&) {
        n = 0;  // reset: closed too
    }
    EXPECT_EQ(n, 0);
    idle.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

// After an early answer (413) the server reads what the client still sends for a bounded
// time only: a client trickling its body forever is closed.
TEST(Framing, TheLingeringCloseAfter413IsBounded) {
    TestServer s([](ServerConfig& c) { c.maxBodyBytes = 1024; });
    auto client = rawConnect(s.port());
    client.setReceiveTimeout(Poco::Timespan(10, 0));
    rawSend(client, post("Content-Length: 100000000\r\n", std::string(100, 'x')));
    EXPECT_EQ(rawReceive(client).status, 413);
    // The answer came with a FIN; once the server has closed for good, sending fails (reset).
    bool closed = false;
    for (int i = 0; i < 80 && !closed; ++i) {  // 8 s of one byte each 100 ms
        try {
            rawSend(client, "x");
        } catch (const Poco::Exception&) {
            closed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(closed);
}

// With authentication on, a request with a body and no valid token is answered 401 (403 for a
// token of the wrong scope) from its head alone: the 15 MiB it announces are never read.
TEST(Framing, AuthenticationComesBeforeTheBody) {
    TestServer s([](ServerConfig& c) {
        c.authEnabled = true;
        c.authCacheSeconds = 0;
    });
    auto session = ConnectionPool::connect(s.db.connection(), 5);
    TokenStore tokens(session);
    const std::string reader = tokens.create(Scope::Read, "");
    const std::string device = tokens.create(Scope::Device, "pi-1");
    const std::string big = "Content-Length: " + std::to_string(15 * 1024 * 1024) + "\r\n";
    const std::vector<std::pair<std::string, int>> cases = {
        {big, 401},
        {big + "Authorization: Bearer nope\r\n", 401},
        {big + "Authorization: Basic eDp5\r\n", 401},
        {big + "Authorization: Bearer " + reader + "\r\n", 403},
        {"Transfer-Encoding: chunked\r\n", 401},
    };
    for (const auto& [fields, status] : cases) {
        SCOPED_TRACE(fields);
        auto client = rawConnect(s.port());
        client.setReceiveTimeout(Poco::Timespan(5, 0));
        rawSend(client, post(fields, ""));  // the head only
        const RawReply r = rawReceive(client);
        EXPECT_EQ(r.status, status);
        EXPECT_NE(Poco::toLower(r.head).find("connection: close"), std::string::npos);
    }
    // With a valid token the body is read and stored as before.
    const auto ok = call(s.port(), "POST", "/readings", readingJson("pi-1", 3),
                         {{"Authorization", "Bearer " + device}});
    EXPECT_EQ(ok.status, 201);
}

}  // namespace
}  // namespace sensorsys::server::testing
