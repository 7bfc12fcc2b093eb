// The API over real HTTP on loopback against a real PostgreSQL: routes, idempotency, streaming,
// pagination, the malformed-request table, limits, auth, 503 on an exhausted pool, metrics and
// 500 concurrent keep-alive clients.
#include "json_answer.hpp"
#include "malformed_cases.hpp"
#include "raw_http.hpp"
#include "server_fixture.hpp"
#include "token_store.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Data/Session.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Process.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Timestamp.h>

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

namespace sensorsys::server::testing {
namespace {

Poco::JSON::Object::Ptr object(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}
Poco::JSON::Array::Ptr array(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
}

std::string bulkOf(const std::string& device, int from, int count) {
    std::string body = "{\"readings\": [";
    for (int i = 0; i < count; ++i) {
        if (i) body += ", ";
        body += readingJson(device, from + i, uuidFor(from + i));
    }
    return body + "]}";
}

const std::string kRange =
    "/readings?start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z";

TEST(HttpApi, CreateAnswers201AndTheSameReadingIdAgainAnswers200WithTheStoredReading) {
    TestServer s;
    const auto body = readingJson("pi-kitchen", 1, uuidFor(1), "+01:00");
    const auto first = call(s.port(), "POST", "/readings", body);
    ASSERT_EQ(first.status, 201) << first.body;
    auto stored = object(first.body);
    EXPECT_EQ(stored->getValue<std::string>("ts_local"), "2030-01-01T11:01:00+01:00");
    EXPECT_EQ(stored->getValue<std::string>("ts_utc"), "2030-01-01T10:01:00+00:00");
    EXPECT_EQ(stored->getValue<std::string>("reading_id"), uuidFor(1));
    const auto again = call(s.port(), "POST", "/readings", body);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(object(again.body)->getValue<int>("id"), stored->getValue<int>("id"));
    // A reading without reading_id (seed client) is stored with a generated one.
    const auto old = call(s.port(), "POST", "/readings", readingJson("pi-kitchen", 2));
    ASSERT_EQ(old.status, 201);
    EXPECT_EQ(object(old.body)->getValue<std::string>("reading_id").size(), 36u);
}

TEST(HttpApi, BulkStoresValidItemsAndCountsInsertedDuplicatesAndRejected) {
    TestServer s;
    ASSERT_EQ(call(s.port(), "POST", "/readings/bulk", bulkOf("b", 0, 5)).status, 200);
    std::string body = "{\"readings\": [" + readingJson("b", 3, uuidFor(3)) + ", " +
                       readingJson("b", 10, uuidFor(10)) + ", {\"device_id\": \"b\"}, " +
                       readingJson("b", 10, uuidFor(10)) + "]}";
    const auto r = call(s.port(), "POST", "/readings/bulk", body);
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = object(r.body);
    EXPECT_EQ(o->getValue<int>("inserted"), 1);
    EXPECT_EQ(o->getValue<int>("duplicates"), 2);
    auto rejected = o->getArray("rejected");
    ASSERT_EQ(rejected->size(), 1u);
    EXPECT_EQ(rejected->getObject(0)->getValue<int>("index"), 2);
    EXPECT_NE(rejected->getObject(0)->getValue<std::string>("error").find("ts_utc"),
              std::string::npos);
    const auto all = call(s.port(), "GET", kRange);
    EXPECT_EQ(array(all.body)->size(), 6u);
}

// A reading dated `ts` (UTC text), with an optional ts_quality member (JSON text).
std::string datedReading(const std::string& device, const std::string& ts,
                         const std::string& quality = "") {
    return "{\"device_id\": \"" + device + "\", \"ts_utc\": \"" + ts + "\", \"ts_local\": \"" + ts +
           "\"" + (quality.empty() ? "" : ", \"ts_quality\": " + quality) +
           ", \"payload\": {\"cpu_temp\": {\"c\": 40}}}";
}

TEST(HttpApi, EveryAnswerCarriesTheServersTimeWithMicroseconds) {
    TestServer s;
    const auto before = Poco::Timestamp();
    for (const auto& target : {"/health", "/readings/latest", "/nowhere"}) {
        const auto r = call(s.port(), "GET", target);
        const std::string header = r.header("X-Server-Time");
        EXPECT_TRUE(
            std::regex_match(header, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
            << target << ": '" << header << "'";
        int zone = 0;
        const auto at =
            Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, header, zone);
        EXPECT_GE(at.timestamp(), before - 1000);  // not before the request (1 ms of rounding)
        EXPECT_LE(at.timestamp(), Poco::Timestamp());
    }
}

TEST(HttpApi, TsQualityIsStoredAndReturnedOnlyWhenSet) {
    TestServer s;
    const auto created = call(s.port(), "POST", "/readings",
                              datedReading("q", "2030-01-01T10:00:00Z", "\"corrected\""));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(object(created.body)->getValue<std::string>("ts_quality"), "corrected");
    const auto bulk =
        call(s.port(), "POST", "/readings/bulk",
             "{\"readings\": [" + datedReading("q", "2030-01-01T10:01:00Z", "\"unsynced\"") + ", " +
                 datedReading("q", "2030-01-01T10:02:00Z") + ", " +
                 datedReading("q", "2030-01-01T10:03:00Z", "\"guessed\"") + "]}");
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    const auto rejected = object(bulk.body)->getArray("rejected");
    ASSERT_EQ(rejected->size(), 1u);
    EXPECT_EQ(rejected->getObject(0)->getValue<std::string>("field"), "ts_quality");
    const auto all = array(call(s.port(), "GET", kRange).body);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->getObject(0)->getValue<std::string>("ts_quality"), "corrected");
    EXPECT_EQ(all->getObject(1)->getValue<std::string>("ts_quality"), "unsynced");
    EXPECT_FALSE(all->getObject(2)->has("ts_quality"));
    const auto latest = object(call(s.port(), "GET", "/readings/latest?device_id=q").body);
    EXPECT_FALSE(latest->has("ts_quality"));
    EXPECT_EQ(call(s.port(), "POST", "/readings",
                   datedReading("q", "2030-01-01T10:04:00Z", "\"guessed\""))
                  .status,
              422);
}

TEST(HttpApi, ATsUtcOnlyABrokenClockProducesIsRefusedNamingTsUtc) {
    TestServer s([](ServerConfig& c) { c.maxFutureSeconds = 86400; });
    const auto future =
        call(s.port(), "POST", "/readings", datedReading("f", "2099-06-01T00:00:00Z"));
    ASSERT_EQ(future.status, 422) << future.body;
    EXPECT_NE(future.body.find("\"ts_utc\""), std::string::npos) << future.body;
    EXPECT_EQ(call(s.port(), "POST", "/readings", datedReading("f", "1999-12-31T23:59:59Z")).status,
              422);
    const std::string now =
        Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%FZ");
    const auto bulk = call(s.port(), "POST", "/readings/bulk",
                           "{\"readings\": [" + datedReading("f", now) + ", " +
                               datedReading("f", "2099-06-01T00:00:00Z") + "]}");
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    const auto o = object(bulk.body);
    EXPECT_EQ(o->getValue<int>("inserted"), 1);
    const auto rejected = o->getArray("rejected");
    ASSERT_EQ(rejected->size(), 1u);
    EXPECT_EQ(rejected->getObject(0)->getValue<int>("index"), 1);
    EXPECT_EQ(rejected->getObject(0)->getValue<std::string>("field"), "ts_utc");
}

TEST(HttpApi, ATsLocalMoreThan14HoursFromTsUtcIsRefusedNamingTsLocal) {
    TestServer s;
    auto body = [](const std::string& local) {
        return "{\"device_id\": \"skew\", \"ts_utc\": \"2030-01-01T10:00:00Z\", "
               "\"ts_local\": \"" +
               local + "\", \"payload\": {\"t\": 1}}";
    };
    // A wall clock written as UTC 14 hours east of Greenwich is still accepted.
    EXPECT_EQ(call(s.port(), "POST", "/readings", body("2030-01-02T00:00:00Z")).status, 201);
    const auto refused = call(s.port(), "POST", "/readings", body("2030-01-02T00:00:01Z"));
    ASSERT_EQ(refused.status, 422) << refused.body;
    EXPECT_NE(refused.body.find("\"ts_local\""), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find("more than 14 hours from ts_utc"), std::string::npos)
        << refused.body;
    EXPECT_EQ(call(s.port(), "POST", "/readings", body("2029-12-31T19:59:59Z")).status, 422);
}

TEST(HttpApi, LatestIsPerDeviceAnd404WhenThereIsNone) {
    TestServer s;
    EXPECT_EQ(call(s.port(), "GET", "/readings/latest").status, 404);
    call(s.port(), "POST", "/readings/bulk", bulkOf("a", 0, 3));
    call(s.port(), "POST", "/readings/bulk", bulkOf("z", 10, 2));
    auto latest = call(s.port(), "GET", "/readings/latest");
    ASSERT_EQ(latest.status, 200);
    EXPECT_EQ(object(latest.body)->getValue<std::string>("device_id"), "z");
    latest = call(s.port(), "GET", "/readings/latest?device_id=a");
    EXPECT_EQ(object(latest.body)->getValue<std::string>("ts_local"), "2030-01-01T11:02:00+01:00");
    EXPECT_EQ(call(s.port(), "GET", "/readings/latest?device_id=nobody").status, 404);
    const auto devices = array(call(s.port(), "GET", "/devices").body);
    ASSERT_EQ(devices->size(), 2u);
    EXPECT_EQ(devices->getObject(0)->getValue<int>("readings"), 3);
}

TEST(HttpApi, RangeWithoutLimitStreamsTheWholeRangeInOrder) {
    TestServer s([](ServerConfig& c) { c.streamPageRows = 7; });
    call(s.port(), "POST", "/readings/bulk", bulkOf("s", 0, 50));
    const auto r = call(s.port(), "GET", kRange);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    auto rows = array(r.body);
    ASSERT_EQ(rows->size(), 50u);
    for (unsigned i = 1; i < rows->size(); ++i) {
        EXPECT_LT(rows->getObject(i - 1)->getValue<std::string>("ts_local"),
                  rows->getObject(i)->getValue<std::string>("ts_local"));
    }
    // Inclusive bounds, by instant, whatever offset the bounds are written in.
    const auto window =
        call(s.port(), "GET",
             "/readings?start_date=2030-01-01T11:05:00%2B01:00&end_date=2030-01-01T10:09:00Z");
    EXPECT_EQ(array(window.body)->size(), 5u);
}

TEST(HttpApi, SeriesAnswersOneSeriesPerDeviceAndMetricWithBucketsInTheZonesOffset) {
    TestServer s([](ServerConfig& c) { c.rollupIntervalMillis = 0; });  // raw rows only
    call(s.port(), "POST", "/readings/bulk", bulkOf("s", 0, 50));
    const auto r = call(s.port(), "GET",
                        "/readings/series?device_id=s&device_id=quiet&metric=n&metric=cpu_temp.c"
                        "&start_date=2030-01-01T10:00:00Z&end_date=2030-01-01T11:00:00Z&step=15m"
                        "&tz=Europe/Berlin");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto root = object(r.body);
    EXPECT_EQ(root->getValue<std::string>("step"), "15m");
    EXPECT_EQ(root->getValue<std::string>("tz"), "Europe/Berlin");
    const auto series = root->getArray("series");
    ASSERT_EQ(series->size(), 4u);
    const auto n = series->getObject(0);
    EXPECT_EQ(n->getValue<std::string>("device_id"), "s");
    EXPECT_EQ(n->getValue<std::string>("metric"), "n");
    const auto points = n->getArray("points");
    ASSERT_EQ(points->size(), 4u);
    const auto first = points->getObject(0);
    EXPECT_EQ(first->getValue<std::string>("t"), "2030-01-01T11:00:00+01:00");
    EXPECT_EQ(first->getValue<int>("count"), 15);
    EXPECT_EQ(first->getValue<double>("min"), 0);
    EXPECT_EQ(first->getValue<double>("max"), 14);
    EXPECT_EQ(first->getValue<double>("avg"), 7);
    EXPECT_EQ(first->getValue<double>("first"), 0);
    EXPECT_EQ(first->getValue<double>("last"), 14);
    EXPECT_EQ(points->getObject(3)->getValue<int>("count"), 5);
    EXPECT_NEAR(series->getObject(1)->getArray("points")->getObject(0)->getValue<double>("avg"),
                48.3, 1e-9);
    EXPECT_EQ(series->getObject(2)->getValue<std::string>("device_id"), "quiet");
    EXPECT_EQ(series->getObject(2)->getArray("points")->size(), 0u);
}

TEST(HttpApi, DeviceMetricsListsTheNumericPathsOnceTheWorkerRolledThemUp) {
    TestServer s([](ServerConfig& c) { c.rollupIntervalMillis = 20; });
    call(s.port(), "POST", "/readings/bulk", bulkOf("pi-1", 0, 3));
    HttpReply r;
    for (int i = 0; i < 500; ++i) {  // the worker runs every 20 ms; give it up to 10 s
        r = call(s.port(), "GET", "/devices/pi-1/metrics");
        if (r.status != 200 || array(r.body)->size() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(r.status, 200) << r.body;
    const auto metrics = array(r.body);
    ASSERT_EQ(metrics->size(), 3u) << r.body;
    EXPECT_EQ(metrics->getObject(0)->getValue<std::string>("metric"), "cpu_temp.c");
    EXPECT_EQ(metrics->getObject(2)->getValue<std::string>("metric"), "n");
    EXPECT_EQ(metrics->getObject(0)->getValue<std::string>("first_seen").substr(0, 19),
              "2030-01-01T10:00:00");
    EXPECT_EQ(metrics->getObject(0)->getValue<std::string>("last_seen").substr(0, 19),
              "2030-01-01T10:02:00");
    EXPECT_EQ(call(s.port(), "GET", "/devices/nobody/metrics").body, "[]");
    EXPECT_EQ(call(s.port(), "POST", "/devices/pi-1/metrics").status, 405);
    EXPECT_EQ(call(s.port(), "GET", "/devices/pi-1/other").status, 404);
}

std::vector<std::string> splitLines(const std::string& text, const std::string& end) {
    std::vector<std::string> lines;
    std::size_t pos = 0, next;
    while ((next = text.find(end, pos)) != std::string::npos) {
        lines.push_back(text.substr(pos, next - pos));
        pos = next + end.size();
    }
    EXPECT_EQ(pos, text.size()) << "the last line is not terminated";
    return lines;
}

const std::string kExport =
    "/readings/export?start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z";

TEST(HttpApi, ExportCsvStreamsEveryRowWithCrlfLinesAndNamesTheFile) {
    TestServer s([](ServerConfig& c) { c.streamPageRows = 7; });
    call(s.port(), "POST", "/readings/bulk", bulkOf("e", 0, 50));
    const auto r =
        call(s.port(), "GET", kExport + "&format=csv&metric=n&metric=cpu_temp.c&metric=x");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(r.header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(r.header("Content-Disposition"),
              "attachment; filename=\"sensorsys-readings-20300101T000000Z-20300102T000000Z.csv\"");
    const auto lines = splitLines(r.body, "\r\n");
    ASSERT_EQ(lines.size(), 51u);
    EXPECT_EQ(lines[0], "ts_utc,device_id,n,cpu_temp.c,x");
    EXPECT_EQ(lines[1], "2030-01-01T10:00:00+00:00,e,0,48.3,");
    EXPECT_EQ(lines[50], "2030-01-01T10:49:00+00:00,e,49,48.3,");
    const auto whole = call(s.port(), "GET", kExport + "&format=csv&device_id=e");
    const auto rows = splitLines(whole.body, "\r\n");
    ASSERT_EQ(rows.size(), 51u);
    EXPECT_EQ(rows[0], "ts_utc,device_id,payload");
    EXPECT_EQ(rows[1],
              "2030-01-01T10:00:00+00:00,e,\"{\"\"n\"\": 0, \"\"cpu_temp\"\": {\"\"c\"\": 48.3, "
              "\"\"f\"\": 118.94}}\"");
}

TEST(HttpApi, ExportNdjsonHasOneReadingPerLineWithOnlyTheRequestedMetrics) {
    TestServer s([](ServerConfig& c) { c.exportRows = 12; });
    call(s.port(), "POST", "/readings/bulk", bulkOf("j", 0, 30));
    const auto r = call(s.port(), "GET", kExport + "&format=ndjson&metric=cpu_temp.c");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto lines = splitLines(r.body, "\n");
    ASSERT_EQ(lines.size(), 12u);  // limits.export_rows
    const auto first = object(lines[0]);
    EXPECT_EQ(first->getValue<std::string>("device_id"), "j");
    EXPECT_EQ(first->getValue<std::string>("reading_id"), uuidFor(0));
    EXPECT_EQ(jsonText(first->get("payload")), R"({"cpu_temp": {"c": 48.3}})");
    const auto whole = splitLines(call(s.port(), "GET", kExport + "&format=ndjson").body, "\n");
    EXPECT_EQ(object(whole[11])->getObject("payload")->getValue<int>("n"), 11);
}

TEST(HttpApi, LimitGivesPagesLinkedByRelNextUntilTheRangeEnds) {
    TestServer s;
    call(s.port(), "POST", "/readings/bulk", bulkOf("p", 0, 23));
    std::string target = kRange + "&limit=8&device_id=p";
    std::set<int> seen;
    int pages = 0;
    while (!target.empty()) {
        const auto r = call(s.port(), "GET", target);
        ASSERT_EQ(r.status, 200) << r.body;
        auto rows = array(r.body);
        for (unsigned i = 0; i < rows->size(); ++i)
            seen.insert(rows->getObject(i)->getValue<int>("id"));
        ++pages;
        const std::string link = r.header("Link");
        target.clear();
        if (!link.empty()) {
            ASSERT_NE(link.find("rel=\"next\""), std::string::npos);
            target = link.substr(1, link.find('>') - 1);
        }
        ASSERT_LE(pages, 10);
    }
    EXPECT_EQ(seen.size(), 23u);
    EXPECT_EQ(pages, 3);
}

TEST(HttpApi, EveryMalformedRequestGetsItsStatusAndTheConnectionKeepsServing) {
    TestServer s;
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(s.port()));
    session.setTimeout(Poco::Timespan(30, 0));
    const auto cases = malformedCases();
    ASSERT_GE(cases.size(), 30u);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        HeaderList headers(c.headers.begin(), c.headers.end());
        if (c.method != "POST" && c.body.empty()) {
            // no body, no content type
        } else if (headers.empty()) {
            headers.emplace_back("Content-Type", "application/json");
        }
        const auto r = call(session, c.method, c.target, c.body, headers);
        EXPECT_EQ(r.status, c.status) << r.body;
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
        EXPECT_NE(r.body.find(c.mentions), std::string::npos) << r.body;
        if (c.status == 405) {
            EXPECT_FALSE(r.header("Allow").empty());
        }
        const auto health = call(session, "GET", "/health");
        EXPECT_EQ(health.status, 200);
    }
}

TEST(HttpApi, BodyOverTheLimitByContentLengthIs413AndTheConnectionIsClosed) {
    TestServer s([](ServerConfig& c) { c.maxBodyBytes = 64 * 1024; });
    auto sock = rawConnect(s.port());
    rawSend(sock,
            "POST /readings/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000000\r\n\r\n{\"readings\": [");
    const auto r = rawReceive(sock);
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(Poco::toLower(r.head).find("connection: close"), std::string::npos) << r.head;
    EXPECT_NE(r.body.find("limit_bytes"), std::string::npos);
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

TEST(HttpApi, StatusLinesCarryTheReasonPhraseOfTheirStatus) {
    TestServer s([](ServerConfig& c) { c.maxBodyBytes = 64 * 1024; });
    const auto statusLine = [](const RawReply& r) { return r.head.substr(0, r.head.find("\r\n")); };
    const auto expected = [](int status) {
        return "HTTP/1.1 " + std::to_string(status) + " " +
               Poco::Net::HTTPResponse::getReasonForStatus(
                   static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    };
    auto sock = rawConnect(s.port());
    for (const char* target : {"/health", "/no-such-route"}) {
        rawSend(sock, std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto r = rawReceive(sock);
        ASSERT_TRUE(r.complete) << target;
        EXPECT_EQ(statusLine(r), expected(r.status)) << target;
    }
    auto big = rawConnect(s.port());
    rawSend(big,
            "POST /readings/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000000\r\n\r\n{");
    EXPECT_EQ(statusLine(rawReceive(big)), "HTTP/1.1 413 Request Entity Too Large");
}

TEST(HttpApi, ChunkedBodyOverTheLimitIs413) {
    TestServer s([](ServerConfig& c) { c.maxBodyBytes = 64 * 1024; });
    auto sock = rawConnect(s.port());
    std::string request =
        "POST /readings/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) request += "2800\r\n" + std::string(0x2800, ' ') + "\r\n";
    request += "0\r\n\r\n";
    rawSend(sock, request);
    const auto r = rawReceive(sock);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(call(s.port(), "GET", "/health").status, 200);
}

TEST(HttpApi, GzipBodiesAreAccepted) {
    TestServer s;
    const auto r = call(s.port(), "POST", "/readings/bulk", gzipText(bulkOf("gz", 0, 3)),
                        {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(object(r.body)->getValue<int>("inserted"), 3);
}

TEST(HttpApi, HeadAnswersLikeGetWithoutBody) {
    TestServer s;
    const auto r = call(s.port(), "HEAD", "/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
}

class AuthTest : public ::testing::Test {
  protected:
    AuthTest()
        : server([](ServerConfig& c) {
              c.authEnabled = true;
              c.authCacheSeconds = 0;
          }) {
        auto session = ConnectionPool::connect(server.db.connection(), 5);
        TokenStore tokens(session);
        device = tokens.create(Scope::Device, "pi-1");
        reader = tokens.create(Scope::Read, "");
        admin = tokens.create(Scope::Admin, "");
    }
    HttpReply as(const std::string& token, const std::string& method, const std::string& target,
                 const std::string& body = "") {
        return call(server.port(), method, target, body, {{"Authorization", "Bearer " + token}});
    }
    TestServer server;
    std::string device, reader, admin;
};

TEST_F(AuthTest, HealthAndMetricsAreOpenEverythingElseNeedsAToken) {
    EXPECT_EQ(call(server.port(), "GET", "/health").status, 200);
    EXPECT_EQ(call(server.port(), "GET", "/metrics").status, 200);
    const auto r = call(server.port(), "GET", "/readings/latest");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("WWW-Authenticate").rfind("Bearer", 0), 0u);
    const auto bad = as("sst_1_wrongsecret", "GET", "/readings/latest");
    EXPECT_EQ(bad.status, 401);
    EXPECT_NE(bad.header("WWW-Authenticate").find("invalid_token"), std::string::npos);
    EXPECT_EQ(call(server.port(), "GET", "/devices", "", {{"Authorization", "Basic abc"}}).status,
              401);
}

TEST_F(AuthTest, ScopesDecideWhoWritesAndWhoReads) {
    EXPECT_EQ(as(device, "POST", "/readings", readingJson("pi-1", 1, uuidFor(1))).status, 201);
    const auto other = as(device, "POST", "/readings", readingJson("pi-2", 2, uuidFor(2)));
    EXPECT_EQ(other.status, 403);
    EXPECT_NE(other.body.find("device_id"), std::string::npos);
    EXPECT_EQ(as(device, "POST", "/readings/bulk", bulkOf("pi-2", 5, 2)).status, 403);
    EXPECT_EQ(as(device, "GET", "/readings/latest").status, 403);
    EXPECT_EQ(as(reader, "GET", "/readings/latest").status, 200);
    EXPECT_EQ(as(reader, "POST", "/readings", readingJson("pi-1", 3, uuidFor(3))).status, 403);
    EXPECT_EQ(as(admin, "POST", "/readings/bulk", bulkOf("pi-9", 5, 2)).status, 200);
    EXPECT_EQ(as(admin, "GET", "/devices").status, 200);
    const auto check = object(as(device, "GET", "/auth/check").body);
    EXPECT_EQ(check->getValue<std::string>("scope"), "device");
    EXPECT_EQ(check->getValue<std::string>("device_id"), "pi-1");
    EXPECT_FALSE(check->getValue<std::string>("server_time").empty());
}

// Keeps every message logged through `logger`, at every level, while it exists; then puts the
// logger back as it was (the logger is shared by every test in the process).
class LogCapture {
  public:
    explicit LogCapture(Poco::Logger& logger)
        : _logger(logger), _level(logger.getLevel()), _previous(logger.getChannel()) {
        _logger.setChannel(_channel);
        _logger.setLevel(Poco::Message::PRIO_TRACE);
    }
    ~LogCapture() {
        _logger.setLevel(_level);
        _logger.setChannel(_previous);
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    std::string text() const { return _channel->text(); }

  private:
    class Collector : public Poco::Channel {
      public:
        void log(const Poco::Message& message) override {
            std::lock_guard lock(_mutex);
            _text += message.getText() + "\n";
        }
        std::string text() const {
            std::lock_guard lock(_mutex);
            return _text;
        }

      private:
        mutable std::mutex _mutex;
        std::string _text;
    };

    Poco::Logger& _logger;
    int _level;
    Poco::Channel::Ptr _previous;
    Poco::AutoPtr<Collector> _channel = Poco::makeAuto<Collector>();
};

TEST_F(AuthTest, ARevokedTokenIsRefused) {
    std::vector<std::string> rows;
    std::string logged;
    {
        LogCapture log(quietLogger());
        EXPECT_EQ(as(reader, "GET", "/auth/check").status, 200);
        auto session = ConnectionPool::connect(server.db.connection(), 5);
        TokenStore tokens(session);
        ASSERT_TRUE(tokens.revoke(*tokenId(reader)));
        EXPECT_EQ(as(reader, "GET", "/auth/check").status, 401);
        EXPECT_EQ(as(device + "x", "GET", "/auth/check").status, 401);
        session << "SELECT t::text FROM sensor_project.api_tokens t",
            Poco::Data::Keywords::into(rows), Poco::Data::Keywords::now;
        logged = log.text();
    }
    // Stored hashed: neither a clear token nor its secret appears in any column of any row,
    // nor in anything the server logged while it checked them.
    ASSERT_EQ(rows.size(), 3u);
    for (const auto& token : {device, reader, admin}) {
        const std::string prefix = "sst_" + std::to_string(*tokenId(token)) + "_";
        ASSERT_EQ(token.rfind(prefix, 0), 0u) << token;
        const std::string secret = token.substr(prefix.size());
        ASSERT_EQ(secret.size(), 43u) << token;
        for (const auto& row : rows) {
            EXPECT_EQ(row.find(secret), std::string::npos) << row;
        }
        EXPECT_EQ(logged.find(secret), std::string::npos) << logged;
    }
}

TEST(HttpApi, ExhaustedPoolAnswers503WithRetryAfterAndRecovers) {
    TestServer s([](ServerConfig& c) {
        c.poolSize = 1;
        c.poolWaitMillis = 100;
    });
    call(s.port(), "POST", "/readings/bulk", bulkOf("busy", 0, 1));
    {
        auto held = s.server->pool().acquire();
        // Not /readings/latest: the latest-reading cache answers it without the pool.
        const auto r = call(s.port(), "GET", "/devices");
        EXPECT_EQ(r.status, 503);
        EXPECT_EQ(r.header("Retry-After"), "1");
        EXPECT_NE(r.body.find("database busy"), std::string::npos);
    }
    EXPECT_EQ(call(s.port(), "GET", "/devices").status, 200);
}

TEST(HttpApi, MetricsAreValidPrometheusText) {
    TestServer s;
    call(s.port(), "POST", "/readings/bulk", bulkOf("m", 0, 3));
    call(s.port(), "POST", "/readings/bulk", "{\"readings\": [{}]}");
    call(s.port(), "GET", "/nope");
    const auto r = call(s.port(), "GET", "/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
    EXPECT_NE(r.body.find("sensorsys_readings_total{result=\"inserted\"} 3"), std::string::npos);
    EXPECT_NE(r.body.find("sensorsys_readings_total{result=\"rejected\"} 1"), std::string::npos);
    EXPECT_NE(r.body.find("sensorsys_http_requests_total{route=\"unknown\",status=\"404\"} 1"),
              std::string::npos);
    EXPECT_NE(r.body.find("sensorsys_http_request_duration_seconds_bucket{route=\"readings_bulk\","
                          "le=\"+Inf\"} 2"),
              std::string::npos);
    EXPECT_NE(r.body.find("sensorsys_db_pool_in_use"), std::string::npos);
    if (std::ifstream("/usr/bin/promtool").good()) {
        Poco::TemporaryFile file;
        std::ofstream(file.path()) << r.body;
        const std::string cmd =
            "/usr/bin/promtool check metrics < " + file.path() + " > /dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << r.body;
    }
}

TEST(HttpApi, FiveHundredConcurrentKeepAliveClientsAllGetAnswers) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < 1200u) {
        GTEST_SKIP() << "the open-file limit (" << lim.rlim_cur
                     << ") is too low for 500 clients and the server";
    }
    TestServer s([](ServerConfig& c) {
        c.maxThreads = 1024;
        c.poolSize = 4;
        c.poolWaitMillis = 30000;
    });
    call(s.port(), "POST", "/readings/bulk", bulkOf("k", 0, 1));
    constexpr int kClients = 500;
    std::vector<Poco::Net::StreamSocket> sockets;
    sockets.reserve(kClients);
    for (int i = 0; i < kClients; ++i) sockets.push_back(rawConnect(s.port()));
    const std::string request = "GET /readings/latest HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int round = 0; round < 2; ++round) {
        for (auto& sock : sockets) rawSend(sock, request);
        int ok = 0;
        for (auto& sock : sockets) {
            const auto r = rawReceive(sock);
            if (r.complete && r.status == 200) ++ok;
        }
        EXPECT_EQ(ok, kClients) << "round " << round;
    }
}

}  // namespace
}  // namespace sensorsys::server::testing
