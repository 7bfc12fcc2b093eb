// GET /live (WebSocket) and GET /readings/stream over real sockets against a real PostgreSQL:
// fan-out across two instances, resuming by cursor, handshake refusals, the robustness limits
// and first-message authentication.
#include "server_fixture.hpp"

#include "token_store.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Thread.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <thread>

namespace sensorsys::server::testing {
namespace {

using Poco::Net::WebSocket;

// One message the server sent: a text frame's payload, or a close frame's code.
struct Received {
    std::string text;
    std::optional<int> closeCode;
};

class LiveClient {
  public:
    LiveClient(int port, const std::string& target, const HeaderList& headers = {})
        : _session("127.0.0.1", static_cast<Poco::UInt16>(port)) {
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target,
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [k, v] : headers) request.set(k, v);
        Poco::Net::HTTPResponse response;
        _socket = std::make_unique<WebSocket>(_session, request, response);
        _socket->setReceiveTimeout(Poco::Timespan(10, 0));
    }
    // The next text or close frame (pings are answered by nobody: they are skipped).
    Received next() {
        for (;;) {
            int flags = 0;
            const int n =
                _socket->receiveFrame(_buffer.data(), static_cast<int>(_buffer.size()), flags);
            const int op = flags & WebSocket::FRAME_OP_BITMASK;
            if (op == WebSocket::FRAME_OP_CLOSE || n == 0) {
                Received r;
                r.closeCode = n >= 2 ? (static_cast<unsigned char>(_buffer[0]) << 8) |
                                           static_cast<unsigned char>(_buffer[1])
                                     : 0;
                return r;
            }
            if (op == WebSocket::FRAME_OP_TEXT) return {std::string(_buffer.data(), n), {}};
        }
    }
    void send(const std::string& text) {
        _socket->sendFrame(text.data(), static_cast<int>(text.size()));
    }
    WebSocket& socket() { return *_socket; }

  private:
    Poco::Net::HTTPClientSession _session;
    std::unique_ptr<WebSocket> _socket;
    std::vector<char> _buffer = std::vector<char>(1 << 20);
};

std::string field(const std::string& json, const std::string& name) {
    const auto at = json.find("\"" + name + "\": ");
    if (at == std::string::npos) return "";
    auto start = at + name.size() + 4;
    if (json[start] == '"') ++start;
    const auto end = json.find_first_of("\",}", start);
    return json.substr(start, end - start);
}

// The n of a reading message's payload (readingJson puts it there).
int readingNumber(const Received& r) {
    return std::stoi(field(r.text, "n"));
}

// A client receives reading n=1 and goes away: the cursor it was left with.
std::string cursorOfAFirstReading(int port) {
    LiveClient c(port, "/live");
    EXPECT_EQ(call(port, "POST", "/readings", readingJson("x", 1, uuidFor(1))).status, 201);
    const auto r = c.next();
    EXPECT_EQ(readingNumber(r), 1);
    return field(r.text, "cursor");
}

void psql(const std::string& connection, const std::string& statement) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(connection.c_str()), &PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), statement.c_str()), &PQclear);
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
}

TEST(Live, AWriteToOneInstanceArrivesOnTheOthersWebSocketAndAManualInsertOnBoth) {
    TestServer a;
    ServerConfig second = a.config;
    ApiServer b(second, quietLogger());
    b.start();
    LiveClient onB(b.port(), "/live");
    LiveClient onA(a.port(), "/live?device_id=x");
    ASSERT_EQ(call(a.port(), "POST", "/readings", readingJson("x", 7, uuidFor(1))).status, 201);
    const Received first = onB.next();
    EXPECT_EQ(field(first.text, "type"), "reading");
    EXPECT_EQ(readingNumber(first), 7);
    EXPECT_EQ(readingNumber(onA.next()), 7);
    psql(a.db.connection(),
         "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES "
         "('x', now(), now(), '{\"n\": 8}')");
    EXPECT_EQ(readingNumber(onB.next()), 8);
    EXPECT_EQ(readingNumber(onA.next()), 8);
    b.stop();
}

// Read your own writes: the ingest path hands its committed rows on itself; the feed's round
// for their notification may find them first (then the ingest path skips them) or later (then
// its fetch skips them): either way each arrives once. (That the ingest path needs no fetch is
// proven deterministically in change_feed_test.cpp.)
TEST(Live, OwnWritesReachALiveClientOnceWhicheverOfIngestAndFeedIsFirst) {
    TestServer s;
    LiveClient c(s.port(), "/live");
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 1, uuidFor(1))).status, 201);
    EXPECT_EQ(readingNumber(c.next()), 1);
    const std::string bulk = "{\"readings\": [" + readingJson("x", 2, uuidFor(2)) + ", " +
                             readingJson("y", 3, uuidFor(3)) + "]}";
    ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulk).status, 200);
    std::set<int> got{readingNumber(c.next()), readingNumber(c.next())};
    EXPECT_EQ(got, (std::set<int>{2, 3}));
    // A reading of another writer comes by fetch, after the own ones' notifications were
    // handled: had those been handed on again, they would arrive before it.
    psql(s.db.connection(),
         "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES "
         "('x', now(), now(), '{\"n\": 4}')");
    EXPECT_EQ(readingNumber(c.next()), 4);
}

TEST(Live, APostgresqlRestartDuringALiveSessionLosesAndRepeatsNothing) {
    sensorsys::test::PrivateCluster cluster(std::string(SENSORSYS_BINARY_DIR) +
                                            "/tests/server/live_" + std::to_string(::getpid()) +
                                            ".info");
    TestServer s([](ServerConfig& c) { c.connectTimeoutSeconds = 2; }, cluster.infoFile());
    LiveClient c(s.port(), "/live");
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 1, uuidFor(1))).status, 201);
    ASSERT_EQ(readingNumber(c.next()), 1);
    cluster.pause();
    cluster.resume();
    for (int n = 2; n <= 5; ++n) {
        int status = 0;
        for (int attempt = 0; attempt < 100 && status != 201; ++attempt) {
            status = call(s.port(), "POST", "/readings", readingJson("x", n, uuidFor(n))).status;
            if (status != 201) Poco::Thread::sleep(100);
        }
        ASSERT_EQ(status, 201);
    }
    for (int n = 2; n <= 5; ++n) EXPECT_EQ(readingNumber(c.next()), n);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 6, uuidFor(6))).status, 201);
    EXPECT_EQ(readingNumber(c.next()), 6);
}

TEST(Live, ANewClientGetsTheLatestOfEachDeviceFirst) {
    TestServer s;
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 1, uuidFor(1))).status, 201);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 2, uuidFor(2))).status, 201);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("y", 3, uuidFor(3))).status, 201);
    LiveClient c(s.port(), "/live?device_id=x&device_id=y");
    std::set<int> initial{readingNumber(c.next()), readingNumber(c.next())};
    EXPECT_EQ(initial, (std::set<int>{2, 3}));
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 4, uuidFor(4))).status, 201);
    EXPECT_EQ(readingNumber(c.next()), 4);
}

TEST(Live, EachClientGetsItsDevicesReadingsOnceInOrderAndItsCursorResumesExactly) {
    TestServer s;
    LiveClient all(s.port(), "/live");
    auto onlyX = std::make_unique<LiveClient>(s.port(), "/live?device_id=x");
    LiveClient xAndY(s.port(), "/live?device_id=x&device_id=y");
    const std::string bulk = "{\"readings\": [" + readingJson("x", 1, uuidFor(1)) + ", " +
                             readingJson("y", 2, uuidFor(2)) + ", " +
                             readingJson("z", 3, uuidFor(3)) + "]}";
    ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulk).status, 200);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 4, uuidFor(4))).status, 201);
    const auto numbers = [](LiveClient& c, int count) {
        std::vector<int> got;
        for (int i = 0; i < count; ++i) got.push_back(readingNumber(c.next()));
        return got;
    };
    EXPECT_EQ(numbers(all, 3), (std::vector<int>{1, 2, 3}));
    const auto fourth = all.next();
    EXPECT_EQ(readingNumber(fourth), 4);
    EXPECT_EQ(numbers(*onlyX, 2), (std::vector<int>{1, 4}));
    EXPECT_EQ(numbers(xAndY, 3), (std::vector<int>{1, 2, 4}));
    // A client that leaves is forgotten: readings for its device go on to the others.
    onlyX->socket().shutdown();
    EXPECT_EQ(onlyX->next().closeCode, 1000);
    onlyX.reset();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (call(s.port(), "GET", "/metrics").body.find("sensorsys_live_clients 2\n") ==
               std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // A client resuming from the all-devices client's last cursor gets only what follows it,
    // first from the database, then from the feed.
    LiveClient resumed(s.port(), "/live?since=" + field(fourth.text, "cursor"));
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("y", 5, uuidFor(5))).status, 201);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 6, uuidFor(6))).status, 201);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("z", 7, uuidFor(7))).status, 201);
    EXPECT_EQ(numbers(resumed, 3), (std::vector<int>{5, 6, 7}));
    EXPECT_EQ(numbers(all, 3), (std::vector<int>{5, 6, 7}));
    EXPECT_EQ(numbers(xAndY, 2), (std::vector<int>{5, 6}));
}

TEST(Live, ResumingWithSinceGetsExactlyTheMissedReadingsThenTheTail) {
    TestServer s;
    const std::string cursor = cursorOfAFirstReading(s.port());
    const std::string bulk = "{\"readings\": [" + readingJson("x", 2, uuidFor(2)) + ", " +
                             readingJson("y", 3, uuidFor(3)) + "]}";
    ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulk).status, 200);
    LiveClient again(s.port(), "/live?since=" + cursor);
    EXPECT_EQ(readingNumber(again.next()), 2);
    EXPECT_EQ(readingNumber(again.next()), 3);
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 4, uuidFor(4))).status, 201);
    EXPECT_EQ(readingNumber(again.next()), 4);
}

TEST(Live, TheEventStreamResumesFromLastEventId) {
    TestServer s;
    const std::string cursor = cursorOfAFirstReading(s.port());
    ASSERT_EQ(call(s.port(), "POST", "/readings", readingJson("x", 2, uuidFor(2))).status, 201);
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(s.port()));
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request("GET", "/readings/stream", Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Last-Event-ID", cursor);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    auto& in = session.receiveResponse(response);
    EXPECT_EQ(response.getStatus(), 200);
    EXPECT_EQ(response.getContentType(), "text/event-stream");
    std::string id, data, line;
    while (data.empty() && std::getline(in, line)) {
        if (line.rfind("id: ", 0) == 0) id = line.substr(4);
        if (line.rfind("data: ", 0) == 0) data = line.substr(6);
    }
    EXPECT_EQ(readingNumber({data, {}}), 2);
    EXPECT_EQ(id, field(data, "cursor"));
}

TEST(Live, ReplayBeyondTheLimitEndsWithAGap) {
    TestServer s([](ServerConfig& c) { c.liveReplay = 2; });
    const std::string bulk = "{\"readings\": [" + readingJson("x", 1, uuidFor(1)) + ", " +
                             readingJson("x", 2, uuidFor(2)) + ", " +
                             readingJson("x", 3, uuidFor(3)) + "]}";
    ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulk).status, 200);
    LiveClient c(s.port(), "/live?since=0");
    EXPECT_EQ(readingNumber(c.next()), 1);
    EXPECT_EQ(readingNumber(c.next()), 2);
    EXPECT_EQ(field(c.next().text, "type"), "gap");
}

TEST(Live, BadUpgradesAreRefusedAndTheServerStaysUp) {
    TestServer s;
    const HeaderList upgrade = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
    auto with = [&](HeaderList extra) {
        HeaderList h = upgrade;
        h.insert(h.end(), extra.begin(), extra.end());
        return h;
    };
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    EXPECT_EQ(call(s.port(), "GET", "/live", "", with({{"Sec-WebSocket-Version", "13"}})).status,
              400);
    const auto version = call(s.port(), "GET", "/live", "",
                              with({{"Sec-WebSocket-Version", "8"}, {"Sec-WebSocket-Key", key}}));
    EXPECT_EQ(version.status, 426);
    EXPECT_EQ(version.header("Sec-WebSocket-Version"), "13");
    EXPECT_EQ(call(s.port(), "GET", "/live").status, 426);
    EXPECT_EQ(call(s.port(), "GET", "/live", "",
                   with({{"Sec-WebSocket-Version", "13"}, {"Sec-WebSocket-Key", "short"}}))
                  .status,
              400);
    EXPECT_EQ(call(s.port(), "POST", "/live", "{}").status, 405);
    EXPECT_EQ(call(s.port(), "GET", "/live?since=nonsense", "",
                   with({{"Sec-WebSocket-Version", "13"}, {"Sec-WebSocket-Key", key}}))
                  .status,
              422);
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

TEST(Live, AClientMessageOver4KiBIsRefusedWith1009) {
    TestServer s;
    LiveClient c(s.port(), "/live");
    c.send(std::string(5000, 'x'));
    EXPECT_EQ(c.next().closeCode, 1009);
    LiveClient fragmented(s.port(), "/live");
    const std::string part(3000, 'y');
    fragmented.socket().sendFrame(part.data(), static_cast<int>(part.size()),
                                  WebSocket::FRAME_OP_TEXT);  // not final
    fragmented.socket().sendFrame(
        part.data(), static_cast<int>(part.size()),
        static_cast<int>(WebSocket::FRAME_FLAG_FIN) | static_cast<int>(WebSocket::FRAME_OP_CONT));
    EXPECT_EQ(fragmented.next().closeCode, 1009);
}

TEST(Live, AClientThatStopsReadingIsClosedWith1013AndIngestGoesOn) {
    // A reading client's backlog stays under one feed page (1000 readings); the stalled one's
    // grows until it overflows.
    TestServer s([](ServerConfig& c) { c.liveQueue = 1500; });
    LiveClient slow(s.port(), "/live");
    slow.socket().setReceiveBufferSize(4096);
    LiveClient reader(s.port(), "/live");
    int readerGot = 0;
    reader.socket().setReceiveTimeout(Poco::Timespan(120, 0));  // ingest may be slow here
    std::thread readerThread([&] {
        try {
            while (readerGot < 3000 && !reader.next().closeCode) ++readerGot;
        } catch (const Poco::Exception&) {
            // counted short: the expectation below fails
        }
    });
    const std::string pad(500, 'p');
    for (int batch = 0; batch < 3; ++batch) {
        std::string body = "{\"readings\": [";
        for (int i = 0; i < 1000; ++i) {
            const int n = batch * 1000 + i;
            std::string r = readingJson("x", n, uuidFor(n));
            r.insert(r.find("\"n\": "), "\"pad\": \"" + pad + "\", ");
            body += (i ? ", " : "") + r;
        }
        body += "]}";
        ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", body).status, 200);
    }
    std::optional<int> code;
    for (int i = 0; i < 3000 && !code; ++i) code = slow.next().closeCode;
    EXPECT_EQ(code, 1013);
    readerThread.join();
    EXPECT_EQ(readerGot, 3000);  // the client that reads got every reading
    EXPECT_NE(call(s.port(), "GET", "/metrics").body.find("sensorsys_live_dropped_slow_total 1\n"),
              std::string::npos);
}

TEST(Live, StoppingTheServerClosesLiveClientsWith1001) {
    TestServer s;
    LiveClient c(s.port(), "/live");
    s.server->stop();
    EXPECT_EQ(c.next().closeCode, 1001);
}

class LiveAuth : public ::testing::Test {
  protected:
    LiveAuth()
        : server([](ServerConfig& c) {
              c.authEnabled = true;
              c.authCacheSeconds = 0;
          }) {
        auto session = ConnectionPool::connect(server.db.connection(), 5);
        TokenStore tokens(session);
        device = tokens.create(Scope::Device, "x");
        reader = tokens.create(Scope::Read, "");
    }
    TestServer server;
    std::string device, reader;
};

TEST_F(LiveAuth, ABrowserAuthenticatesWithItsFirstMessage) {
    ASSERT_EQ(call(server.port(), "POST", "/readings", readingJson("x", 1, uuidFor(1)),
                   {{"Authorization", "Bearer " + device}})
                  .status,
              201);
    LiveClient browser(server.port(), "/live");
    browser.send("{\"type\": \"auth\", \"token\": \"" + reader + "\"}");
    EXPECT_EQ(readingNumber(browser.next()), 1);
    LiveClient writer(server.port(), "/live");
    writer.send("{\"type\": \"auth\", \"token\": \"" + device + "\"}");
    EXPECT_EQ(writer.next().closeCode, 1008);
    LiveClient other(server.port(), "/live");
    other.send("{\"type\": \"hello\"}");
    EXPECT_EQ(other.next().closeCode, 1008);
    const auto header = call(server.port(), "GET", "/readings/stream", "",
                             {{"Authorization", "Bearer sst_1_wrong"}});
    EXPECT_EQ(header.status, 401);
    LiveClient withHeader(server.port(), "/live", {{"Authorization", "Bearer " + reader}});
    EXPECT_EQ(readingNumber(withHeader.next()), 1);
}

TEST_F(LiveAuth, NoAuthMessageWithinFiveSecondsCloses1008) {
    LiveClient silent(server.port(), "/live");
    EXPECT_EQ(silent.next().closeCode, 1008);
}

}  // namespace
}  // namespace sensorsys::server::testing
