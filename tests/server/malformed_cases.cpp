#include "malformed_cases.hpp"

#include <Poco/DeflatingStream.h>

#include <sstream>

namespace sensorsys::server::testing {

std::string gzipText(const std::string& text) {
    std::ostringstream out;
    Poco::DeflatingOutputStream deflater(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
    deflater << text;
    deflater.close();
    return out.str();
}

namespace {

const std::string kJson = "application/json";

std::string reading(const std::string& deviceId = "\"dev\"",
                    const std::string& tsUtc = "\"2026-11-27T05:00:00Z\"",
                    const std::string& tsLocal = "\"2026-11-27T06:00:00+01:00\"",
                    const std::string& payload = "{\"cpu_temp\": {\"c\": 48.3}}",
                    const std::string& extra = "") {
    std::string s = "{";
    if (!deviceId.empty()) s += "\"device_id\": " + deviceId + ", ";
    if (!tsUtc.empty()) s += "\"ts_utc\": " + tsUtc + ", ";
    if (!tsLocal.empty()) s += "\"ts_local\": " + tsLocal + ", ";
    if (!extra.empty()) s += extra + ", ";
    if (!payload.empty()) s += "\"payload\": " + payload + ", ";
    s += "\"x\": 0}";
    return s;
}

MalformedCase post(std::string name, std::string target, std::string body, int status,
                   std::string mentions) {
    return {std::move(name), "POST", std::move(target),  {{"Content-Type", kJson}},
            std::move(body), status, std::move(mentions)};
}

}  // namespace

MalformedCase get(std::string name, std::string target, std::string mentions) {
    return {std::move(name), "GET", std::move(target), {}, "", 422, std::move(mentions)};
}

void addSeriesCases(std::vector<MalformedCase>& c) {
    const std::string s = "/readings/series?device_id=d&metric=cpu_temp.c";
    const std::string d = "/readings/series?device_id=d";
    std::string deep = "a";
    for (int i = 1; i < 1000; ++i) deep += ".a";
    std::string devices, metrics;
    for (int i = 0; i < 21; ++i) devices += "&device_id=d" + std::to_string(i);
    for (int i = 0; i < 11; ++i) metrics += "&metric=m" + std::to_string(i);
    c.push_back(get("series metric with a double quote", d + "&metric=a%22b", "metric"));
    c.push_back(get("series metric with a single quote", d + "&metric=a'b", "metric"));
    c.push_back(get("series metric with ..", d + "&metric=a..b", "metric"));
    c.push_back(get("series metric of 1000 levels", d + "&metric=" + deep, "metric"));
    c.push_back(get("series metric of 9 levels", d + "&metric=a.b.c.d.e.f.g.h.i", "levels"));
    c.push_back(get("series metric with a leading dot", d + "&metric=.a", "metric"));
    c.push_back(get("series metric with a trailing dot", d + "&metric=a.", "metric"));
    c.push_back(get("series metric in upper case", d + "&metric=CPU_TEMP.c", "metric"));
    c.push_back(get("series metric empty", d + "&metric=", "metric"));
    c.push_back(get("series metric with SQL", d + "&metric=a%3Bdrop%20table%20x", "metric"));
    c.push_back(get("series metric with NUL", d + "&metric=a%00b", "metric"));
    c.push_back(get("series metric missing", d, "metric"));
    c.push_back(get("series 11 metrics", d + metrics, "metric"));
    c.push_back(get("series device_id missing", "/readings/series?metric=a", "device_id"));
    c.push_back(get("series device_id empty", s + "&device_id=", "device_id"));
    c.push_back(get("series 21 devices", "/readings/series?metric=a" + devices, "device_id"));
    c.push_back(get("series step 0s", s + "&step=0s", "step"));
    c.push_back(get("series step 2h", s + "&step=2h", "step"));
    c.push_back(get("series step empty", s + "&step=", "step"));
    c.push_back(get("series step 1m over a year",
                    s + "&step=1m&start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
                    "step"));
    c.push_back(get("series step twice", s + "&step=1m&step=1h", "step"));
    c.push_back(get("series points 0", s + "&points=0", "points"));
    c.push_back(get("series points -5", s + "&points=-5", "points"));
    c.push_back(get("series points over the limit", s + "&points=10001", "points"));
    c.push_back(get("series tz with ..", s + "&tz=..%2Fetc%2Fpasswd", "tz"));
    c.push_back(get("series tz empty", s + "&tz=", "tz"));
    c.push_back(get("series tz with a quote", s + "&tz=Europe%2FBer'lin", "tz"));
    MalformedCase unknownZone = get("series unknown tz", s + "&tz=Mars%2FOlympus_Mons", "tz");
    unknownZone.needsDatabase = true;
    c.push_back(unknownZone);
    c.push_back(get("series start_date words", s + "&start_date=yesterday", "start_date"));
    c.push_back(get("series end before start",
                    s + "&start_date=2026-11-27T00:00:00Z&end_date=2026-11-26T00:00:00Z",
                    "end_date"));
    const std::string e =
        "/readings/export?start_date=2026-11-27T00:00:00Z"
        "&end_date=2026-11-28T00:00:00Z";
    c.push_back(get("export without format", e, "format"));
    c.push_back(get("export format xml", e + "&format=xml", "format"));
    c.push_back(get("export metric with a quote", e + "&format=csv&metric=a%22b", "metric"));
    c.push_back(get("export format twice", e + "&format=csv&format=csv", "format"));
    c.push_back(get("export without start_date",
                    "/readings/export?format=csv&end_date=2026-11-28T00:00:00Z", "start_date"));
    c.push_back(get("range end before start",
                    "/readings?start_date=2026-11-27T00:00:00Z&end_date=2026-11-26T23:59:59Z",
                    "end_date"));
}

std::vector<MalformedCase> malformedCases() {
    std::vector<MalformedCase> c;
    const std::string q = "/readings?start_date=2026-11-27T00:00:00Z&end_date=2026-11-28T00:00:00Z";
    c.push_back({"unknown path", "GET", "/nope", {}, "", 404, "/nope"});
    c.push_back({"unknown nested path", "GET", "/readings/123", {}, "", 404, "/readings/123"});
    c.push_back({"DELETE /readings", "DELETE", "/readings", {}, "", 405, "GET, HEAD, POST"});
    c.push_back({"GET /readings/bulk", "GET", "/readings/bulk", {}, "", 405, "POST"});
    c.push_back({"POST /readings/latest",
                 "POST",
                 "/readings/latest",
                 {{"Content-Type", kJson}},
                 "{}",
                 405,
                 "GET"});
    c.push_back({"PUT /health", "PUT", "/health", {}, "", 405, "GET"});
    c.push_back(post("truncated JSON", "/readings", "{\"device_id\": ", 400, "malformed JSON"));
    c.push_back(post("empty body", "/readings", "", 400, "malformed JSON"));
    c.push_back(post("trailing garbage", "/readings", reading() + "}", 400, "malformed JSON"));
    c.push_back(post("body is an array", "/readings", "[1, 2]", 422, "(reading)"));
    c.push_back(post("body is a string", "/readings", "\"hello\"", 422, "(reading)"));
    c.push_back(post("device_id missing", "/readings", reading(""), 422, "device_id"));
    c.push_back(post("device_id a number", "/readings", reading("42"), 422, "device_id"));
    c.push_back(post("device_id empty", "/readings", reading("\"\""), 422, "device_id"));
    c.push_back(post("device_id too long", "/readings",
                     reading("\"" + std::string(129, 'd') + "\""), 422, "at most 128"));
    c.push_back(post("device_id control character", "/readings", reading("\"a\\u0001b\""), 422,
                     "device_id"));
    c.push_back(post("ts_utc missing", "/readings", reading("\"dev\"", ""), 422, "ts_utc"));
    c.push_back(
        post("ts_utc words", "/readings", reading("\"dev\"", "\"yesterday\""), 422, "ts_utc"));
    c.push_back(post("ts_utc 30 February", "/readings",
                     reading("\"dev\"", "\"2026-02-30T00:00:00Z\""), 422, "ts_utc"));
    c.push_back(post("ts_utc hour 25", "/readings", reading("\"dev\"", "\"2026-11-27T25:00:00Z\""),
                     422, "ts_utc"));
    c.push_back(
        post("ts_utc a number", "/readings", reading("\"dev\"", "1732683600"), 422, "ts_utc"));
    c.push_back(
        post("ts_local offset +25:00", "/readings",
             reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00+25:00\""), 422,
             "ts_local"));
    c.push_back(post("ts_local missing", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", ""), 422, "ts_local"));
    c.push_back(post("payload missing", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"", ""),
                     422, "payload"));
    c.push_back(
        post("payload an array", "/readings",
             reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"", "[1, 2]"),
             422, "payload"));
    c.push_back(
        post("payload a string", "/readings",
             reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"", "\"x\""),
             422, "payload"));
    c.push_back(post("payload with NUL character", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"",
                             "{\"a\": \"x\\u0000y\"}"),
                     400, "NUL"));
    c.push_back(post("payload number out of range", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"",
                             "{\"a\": 1e99999}"),
                     400, "out of range"));
    c.push_back(post("reading_id not a UUID", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"",
                             "{}", "\"reading_id\": \"not-a-uuid\""),
                     422, "reading_id"));
    c.push_back(post("reading_id a number", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"",
                             "{}", "\"reading_id\": 7"),
                     422, "reading_id"));
    c.push_back(post("invalid UTF-8", "/readings", "{\"device_id\": \"\xC3\x28\"}", 400, "UTF-8"));
    c.push_back(post("payload nested too deeply", "/readings",
                     reading("\"dev\"", "\"2026-11-27T05:00:00Z\"", "\"2026-11-27T06:00:00Z\"",
                             std::string(200, '[') + std::string(200, ']')),
                     400, "malformed JSON"));
    c.push_back({"content type text/plain",
                 "POST",
                 "/readings",
                 {{"Content-Type", "text/plain"}},
                 reading(),
                 415,
                 "Content-Type"});
    c.push_back({"content encoding br",
                 "POST",
                 "/readings",
                 {{"Content-Type", kJson}, {"Content-Encoding", "br"}},
                 reading(),
                 415,
                 "Content-Encoding"});
    c.push_back({"gzip header but not gzip",
                 "POST",
                 "/readings/bulk",
                 {{"Content-Type", kJson}, {"Content-Encoding", "gzip"}},
                 "{\"readings\": []}",
                 400,
                 "gzip"});
    c.push_back(
        {"gzip bomb over the limit after inflation",
         "POST",
         "/readings/bulk",
         {{"Content-Type", kJson}, {"Content-Encoding", "gzip"}},
         gzipText("{\"readings\": [], \"pad\": \"" + std::string(17 * 1024 * 1024, 'a') + "\"}"),
         413,
         "inflation"});
    c.push_back(post("bulk body an array", "/readings/bulk", "[" + reading() + "]", 422, "(body)"));
    c.push_back(
        post("bulk readings missing", "/readings/bulk", "{\"items\": []}", 422, "readings"));
    c.push_back(
        post("bulk readings an object", "/readings/bulk", "{\"readings\": {}}", 422, "readings"));
    {
        std::string many = "{\"readings\": [";
        for (int i = 0; i < 10001; ++i) many += i ? ",{}" : "{}";
        many += "]}";
        c.push_back(post("bulk over 10000 readings", "/readings/bulk", many, 413, "10000"));
    }
    c.push_back({"range without start_date",
                 "GET",
                 "/readings?end_date=2026-11-28T00:00:00Z",
                 {},
                 "",
                 422,
                 "start_date"});
    c.push_back({"range with bad end_date",
                 "GET",
                 "/readings?start_date=2026-11-27T00:00:00Z&end_date=tomorrow",
                 {},
                 "",
                 422,
                 "end_date"});
    c.push_back({"range limit 0", "GET", q + "&limit=0", {}, "", 422, "limit"});
    c.push_back({"range limit not a number", "GET", q + "&limit=ten", {}, "", 422, "limit"});
    c.push_back({"range limit over 10000", "GET", q + "&limit=10001", {}, "", 422, "limit"});
    c.push_back({"range bad cursor", "GET", q + "&limit=5&after=xyz", {}, "", 422, "after"});
    c.push_back({"range limit %2B5", "GET", q + "&limit=%2B5", {}, "", 422, "limit"});
    c.push_back({"range limit +5", "GET", q + "&limit=+5", {}, "", 422, "limit"});
    c.push_back({"range limit 05", "GET", q + "&limit=05", {}, "", 422, "limit"});
    c.push_back({"range limit twice", "GET", q + "&limit=5&limit=6", {}, "", 422, "limit"});
    c.push_back({"range start_date twice",
                 "GET",
                 q + "&start_date=2026-11-27T01:00:00Z",
                 {},
                 "",
                 422,
                 "start_date"});
    c.push_back({"latest device_id twice",
                 "GET",
                 "/readings/latest?device_id=a&device_id=b",
                 {},
                 "",
                 422,
                 "device_id"});
    c.push_back({"range empty device_id", "GET", q + "&device_id=", {}, "", 422, "device_id"});
    c.push_back(
        {"bad percent escape", "GET", "/readings?start_date=%zz", {}, "", 400, "request target"});
    c.push_back({"latest with empty device_id",
                 "GET",
                 "/readings/latest?device_id=",
                 {},
                 "",
                 422,
                 "device_id"});
    addSeriesCases(c);
    return c;
}

}  // namespace sensorsys::server::testing
