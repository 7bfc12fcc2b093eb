// Fuzz target: the server's request parsing and validation (readBody, then parseRequest) as the
// HTTP handler drives them, fed one raw HTTP/1.1 request per input:
//
//     METHOD TARGET [VERSION]        first line
//     Name: value                    header lines, up to an empty line
//     <body>                         everything after the empty line
//
// Besides "no crash, no leak, no undefined behaviour" it checks what every answer must be:
// an error is a 4xx whose body is valid UTF-8 JSON; an accepted request holds only values the
// database and the JSON writers take (valid UTF-8, canonical UUIDs, timestamps that format and
// parse back to themselves), and the Link URL of a page parses back to the same query.
#include "api_request.hpp"
#include "body_limits.hpp"
#include "fuzz_check.hpp"
#include "timestamp.hpp"

#include <sensorsys/common/json_cursor.hpp>
#include <sensorsys/common/json_text.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys;
using namespace sensorsys::server;
using sensorsys::fuzz::fail;
using sensorsys::fuzz::require;

// Small limits so the 413 paths (body, gzip inflation, batch size) are within a fuzzer's reach.
constexpr RequestLimits kLimits{64 * 1024, 16, 100};

std::string_view nextLine(std::string_view& rest) {
    const auto newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

struct RawRequest {
    std::string_view method;
    std::string_view target;
    Headers headers;
    std::string_view body;
};

RawRequest splitRequest(std::string_view input) {
    RawRequest r;
    std::string_view rest = input;
    const std::string_view first = nextLine(rest);
    const auto space = first.find(' ');
    r.method = first.substr(0, space);
    if (space != std::string_view::npos) {
        const std::string_view target = first.substr(space + 1);
        r.target = target.substr(0, target.find(' '));
    }
    while (!rest.empty()) {
        const std::string_view line = nextLine(rest);
        if (line.empty()) break;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        r.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
    }
    r.body = rest;
    return r;
}

// Valid UTF-8 and one JSON value, as any client's parser must be able to read it.
void requireJson(std::string_view text, std::string_view what) {
    require(isValidUtf8(text), std::string(what) + " is not valid UTF-8", text);
    try {
        // In an array: POCO's parser takes only an object or an array at the top.
        Poco::JSON::Parser parser;
        parser.parse("[" + std::string(text) + "]");
    } catch (const Poco::Exception& e) {
        fail(std::string(what) + " is not JSON: " + e.displayText(), text);
    }
}

void requireRoundTrip(const Timestamp& ts, std::string_view what) {
    const std::string text = formatTimestamp(ts);
    const auto again = parseTimestamp(text);
    require(
        again && again->epochMicros == ts.epochMicros && again->offsetSeconds == ts.offsetSeconds,
        std::string(what) + " does not parse back to itself", text);
    const std::string sql = formatUtcForSql(ts.epochMicros);
    const auto utc = parseTimestamp(sql);
    require(utc && utc->epochMicros == ts.epochMicros && utc->offsetSeconds == 0,
            std::string(what) + " in SQL form does not parse back to itself", sql);
}

void requireDeviceId(const std::string& id) {
    require(!id.empty() && isValidUtf8(id), "accepted device_id is empty or not UTF-8", id);
}

void checkReading(const ReadingInput& r) {
    requireDeviceId(r.deviceId);
    if (r.readingId) {
        require(canonicalUuid(*r.readingId) == r.readingId, "reading_id is not canonical",
                *r.readingId);
    }
    requireRoundTrip(r.tsUtc, "ts_utc");
    requireRoundTrip(r.tsLocal, "ts_local");
    require(isValidUtf8(r.payloadJson), "payload is not valid UTF-8", r.payloadJson);
    try {
        JsonCursor c(r.payloadJson);
        require(c.peek() == JsonCursor::Kind::Object, "payload is not an object", r.payloadJson);
        c.skipValue(0);
        c.end();
    } catch (const JsonSyntaxError& e) {
        fail(std::string("accepted payload does not parse again: ") + e.what(), r.payloadJson);
    }
}

void checkError(const ApiError& e) {
    // 426: GET /live without a WebSocket upgrade (or with another version).
    static const std::set<int> kStatuses = {400, 404, 405, 413, 415, 422, 426};
    require(kStatuses.contains(e.status), "unexpected status " + std::to_string(e.status),
            e.body());
    requireJson(e.body(), "error body");
    if (e.status == 405) {
        require(!e.headers.empty() && e.headers.front().first == "Allow", "405 without Allow");
    }
}

void checkBulk(const ApiRequest& req) {
    require(req.readings.size() == req.readingIndex.size(), "bulk: readings and indexes differ");
    require(req.readings.size() + req.rejected.size() == req.bulkCount,
            "bulk: accepted + rejected != items");
    require(req.bulkCount <= static_cast<std::size_t>(kLimits.maxBatch), "bulk: over maxBatch");
    for (std::size_t i = 0; i < req.readings.size(); ++i) {
        require(i == 0 || req.readingIndex[i - 1] < req.readingIndex[i], "bulk: index order");
        checkReading(req.readings[i]);
    }
    for (const auto& item : req.rejected) {
        require(item.index < req.bulkCount && !item.field.empty() && !item.error.empty(),
                "bulk: rejected item without index, field or reason", item.error);
        // The agent reads these back from the answer's JSON.
        requireJson(jsonString(item.error), "rejected item's error");
    }
}

// The next-page URL GET /readings puts in its Link header (api_service.cpp) must parse back
// to the same query.
void checkQuery(const ApiRequest& req) {
    const RangeQuery& range = req.range;
    requireRoundTrip(range.start, "start_date");
    requireRoundTrip(range.end, "end_date");
    if (range.deviceId) requireDeviceId(*range.deviceId);
    if (!range.limit) return;
    require(*range.limit >= 1 && *range.limit <= kLimits.maxPageRows, "limit out of range");
    std::string link = "/readings?start_date=" + encodeQueryValue(formatTimestamp(range.start)) +
                       "&end_date=" + encodeQueryValue(formatTimestamp(range.end)) +
                       "&limit=" + std::to_string(*range.limit);
    if (range.deviceId) link += "&device_id=" + encodeQueryValue(*range.deviceId);
    if (range.after) link += "&after=" + encodeQueryValue(formatCursor(*range.after));
    const ApiRequest next = parseRequest("GET", link, {}, "", kLimits);
    require(!next.error, "the Link URL is refused", link);
    const RangeQuery& again = next.range;
    require(again.start.epochMicros == range.start.epochMicros &&
                again.start.offsetSeconds == range.start.offsetSeconds &&
                again.end.epochMicros == range.end.epochMicros &&
                again.end.offsetSeconds == range.end.offsetSeconds &&
                again.deviceId == range.deviceId && again.limit == range.limit &&
                again.after.has_value() == range.after.has_value() &&
                (!range.after || (again.after->tsLocalMicros == range.after->tsLocalMicros &&
                                  again.after->id == range.after->id)),
            "the Link URL is a different query", link);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const RawRequest raw =
        splitRequest(std::string_view(reinterpret_cast<const char*>(data), size));

    // POCO refuses a request with an unreadable Content-Length before our handler runs.
    std::optional<std::int64_t> contentLength;
    if (const std::string* text = findHeader(raw.headers, "Content-Length")) {
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
        if (ec != std::errc() || end != text->data() + text->size() || n < 0) return 0;
        contentLength = n;
    }
    std::istringstream stream{std::string(raw.body)};
    std::string body;
    const BodyRead read = readBody(stream, contentLength, kLimits.maxBodyBytes, body);
    require(static_cast<std::int64_t>(body.size()) <= kLimits.maxBodyBytes + 1,
            "readBody kept more than the limit");
    if (read == BodyRead::Complete) {
        require(body == raw.body.substr(0, body.size()), "readBody changed the body");
    }
    if (read != BodyRead::Complete) return 0;

    const ApiRequest req = parseRequest(raw.method, raw.target, raw.headers, body, kLimits);
    if (req.bearer) require(!req.bearer->empty() && !req.authorizationMalformed, "bearer");
    if (req.error) {
        checkError(*req.error);
        return 0;
    }
    require(req.route != Route::Unknown, "no error and no route");
    if (req.route == Route::ReadingsCreate) {
        checkReading(req.reading);
    } else if (req.route == Route::ReadingsBulk) {
        checkBulk(req);
    } else if (req.route == Route::ReadingsQuery) {
        checkQuery(req);
    } else if (req.route == Route::ReadingsLatest && req.deviceId) {
        requireDeviceId(*req.deviceId);
    }
    return 0;
}
