#include "api_request.h"

#include "json_text.h"

#include "json_cursor.h"

#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/MemoryStream.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include <cctype>
#include <cmath>
#include <sstream>

namespace sensorsys::server {

const char* routeName(Route route) {
    switch (route) {
        case Route::ReadingsCreate:
            return "readings_create";
        case Route::ReadingsBulk:
            return "readings_bulk";
        case Route::ReadingsQuery:
            return "readings_query";
        case Route::ReadingsLatest:
            return "readings_latest";
        case Route::Devices:
            return "devices";
        case Route::AuthCheck:
            return "auth_check";
        case Route::Health:
            return "health";
        case Route::Metrics:
            return "metrics";
        case Route::Unknown:
            break;
    }
    return "unknown";
}

const std::string* findHeader(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && Poco::icompare(key, std::string(name)) == 0) return &value;
    }
    return nullptr;
}

std::string ApiError::body() const {
    std::string out = "{\"error\": ";
    appendJsonString(out, error);
    out += ", \"detail\": ";
    out += detailJson;
    out += "}";
    return out;
}

namespace {

constexpr std::size_t kMaxDeviceIdChars = 128;

ApiError makeError(int status, std::string error, std::string detailJson = "null") {
    ApiError e;
    e.status = status;
    e.error = std::move(error);
    e.detailJson = std::move(detailJson);
    return e;
}

std::string fieldDetail(std::string_view field, std::string_view problem) {
    std::string d = "{\"field\": ";
    appendJsonString(d, field);
    d += ", \"problem\": ";
    appendJsonString(d, problem);
    d += "}";
    return d;
}

struct FieldProblem {
    std::string field;
    std::string problem;
};

std::string problemsDetail(const std::vector<FieldProblem>& problems) {
    std::string d = "[";
    for (std::size_t i = 0; i < problems.size(); ++i) {
        if (i) d += ", ";
        d += fieldDetail(problems[i].field, problems[i].problem);
    }
    return d + "]";
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding; '+' means space in query strings. Nothing on a broken escape.
std::optional<std::string> percentDecode(std::string_view s, bool plusIsSpace) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::size_t utf8Length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    }
    return n;
}

std::optional<std::string> deviceIdProblem(std::string_view id) {
    if (id.empty()) return "must not be empty";
    if (!isValidUtf8(id)) return "must be valid UTF-8";
    if (utf8Length(id) > kMaxDeviceIdChars)
        return "must be at most " + std::to_string(kMaxDeviceIdChars) + " characters";
    for (char c : id) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            return "must not hold control characters";
    }
    return std::nullopt;
}

// One reading object as read from the body: the fields the API knows, before validation.
struct RawField {
    bool present = false;
    JsonCursor::Kind kind = JsonCursor::Kind::Null;
    std::string text;      // strings: the unescaped value
    std::string_view raw;  // objects: the exact text (payload)
};

struct RawReading {
    bool isObject = false;
    JsonCursor::Kind kind = JsonCursor::Kind::Object;
    RawField readingId, deviceId, tsUtc, tsLocal, payload;
};

void readField(JsonCursor& c, RawField& field, int depth, bool keepRaw) {
    field.present = true;
    field.kind = c.peek();
    field.text.clear();
    if (field.kind == JsonCursor::Kind::String) {
        field.text = c.readString();
        return;
    }
    const std::size_t start = c.position();
    c.skipValue(depth);
    if (keepRaw) field.raw = c.slice(start, c.position());
}

// Reads one value expected to be a reading object (anything else is kept as its kind).
RawReading readReading(JsonCursor& c, int depth) {
    RawReading r;
    r.kind = c.peek();
    if (r.kind != JsonCursor::Kind::Object) {
        c.skipValue(depth);
        return r;
    }
    r.isObject = true;
    c.beginObject(depth);
    bool first = true;
    std::string key;
    while (c.nextKey(first, key)) {
        if (key == "reading_id") {
            readField(c, r.readingId, depth + 1, false);
        } else if (key == "device_id") {
            readField(c, r.deviceId, depth + 1, false);
        } else if (key == "ts_utc") {
            readField(c, r.tsUtc, depth + 1, false);
        } else if (key == "ts_local") {
            readField(c, r.tsLocal, depth + 1, false);
        } else if (key == "payload") {
            readField(c, r.payload, depth + 1, true);
        } else {
            c.skipValue(depth + 1);
        }
    }
    return r;
}

const std::string* stringField(const RawField& f, const char* name, bool required,
                               std::vector<FieldProblem>& problems) {
    if (!f.present || f.kind == JsonCursor::Kind::Null) {
        if (required) problems.push_back({name, "required"});
        return nullptr;
    }
    if (f.kind != JsonCursor::Kind::String) {
        problems.push_back(
            {name, std::string("must be a string, not ") + JsonCursor::kindName(f.kind)});
        return nullptr;
    }
    return &f.text;
}

void timestampField(const RawField& f, const char* name, Timestamp& out,
                    std::vector<FieldProblem>& problems) {
    if (const std::string* text = stringField(f, name, true, problems)) {
        if (auto ts = parseTimestamp(*text)) {
            out = *ts;
        } else {
            problems.push_back({name, "not an RFC 3339 timestamp: " + text->substr(0, 64)});
        }
    }
}

// Validates one reading; on success fills out and returns no problems.
std::vector<FieldProblem> validateReading(const RawReading& r, ReadingInput& out) {
    std::vector<FieldProblem> problems;
    if (!r.isObject) {
        problems.push_back(
            {"(reading)", std::string("must be an object, not ") + JsonCursor::kindName(r.kind)});
        return problems;
    }
    if (const std::string* id = stringField(r.readingId, "reading_id", false, problems)) {
        if (auto uuid = canonicalUuid(*id)) {
            out.readingId = std::move(*uuid);
        } else {
            problems.push_back({"reading_id", "not a UUID: " + id->substr(0, 64)});
        }
    }
    if (const std::string* device = stringField(r.deviceId, "device_id", true, problems)) {
        if (auto p = deviceIdProblem(*device)) {
            problems.push_back({"device_id", *p});
        } else {
            out.deviceId = *device;
        }
    }
    timestampField(r.tsUtc, "ts_utc", out.tsUtc, problems);
    timestampField(r.tsLocal, "ts_local", out.tsLocal, problems);
    if (!r.payload.present || r.payload.kind == JsonCursor::Kind::Null) {
        problems.push_back({"payload", "required"});
    } else if (r.payload.kind != JsonCursor::Kind::Object) {
        problems.push_back({"payload", std::string("must be an object, not ") +
                                           JsonCursor::kindName(r.payload.kind)});
    } else if (problems.empty()) {
        out.payloadJson.assign(r.payload.raw);
    }
    return problems;
}

std::string joinProblems(const std::vector<FieldProblem>& problems) {
    std::string s;
    for (const auto& p : problems) {
        if (!s.empty()) s += "; ";
        s += p.field + ": " + p.problem;
    }
    return s;
}

struct Target {
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
};

std::optional<Target> splitTarget(std::string_view target) {
    Target t;
    const auto q = target.find('?');
    auto path = percentDecode(target.substr(0, q), false);
    if (!path) return std::nullopt;
    t.path = std::move(*path);
    if (q != std::string_view::npos) {
        std::string_view rest = target.substr(q + 1);
        const auto hash = rest.find('#');
        if (hash != std::string_view::npos) rest = rest.substr(0, hash);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            std::string_view part = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
            if (part.empty()) continue;
            const auto eq = part.find('=');
            auto key = percentDecode(part.substr(0, eq), true);
            auto value = percentDecode(
                eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
            if (!key || !value) return std::nullopt;
            t.query.emplace_back(std::move(*key), std::move(*value));
        }
    }
    return t;
}

// A parameter given twice is refused rather than "the first one wins": a proxy or cache in
// front may have taken the other one.
const std::string* repeatedParam(const Target& t) {
    for (std::size_t i = 0; i < t.query.size(); ++i) {
        for (std::size_t j = i + 1; j < t.query.size(); ++j) {
            if (t.query[i].first == t.query[j].first) return &t.query[i].first;
        }
    }
    return nullptr;
}

// Only the canonical decimal form: no sign, no leading zero, no blanks ("+5", "05" refused).
bool isCanonicalPositive(const std::string& text) {
    return !text.empty() && text.size() <= 9 && text.front() != '0' &&
           text.find_first_not_of("0123456789") == std::string::npos;
}

const std::string* queryParam(const Target& t, std::string_view name) {
    for (const auto& [k, v] : t.query) {
        if (k == name) return &v;
    }
    return nullptr;
}

struct RouteSpec {
    const char* path;
    const char* allow;
    Route get;
    Route post;
};

constexpr RouteSpec kRoutes[] = {
    {"/readings", "GET, HEAD, POST", Route::ReadingsQuery, Route::ReadingsCreate},
    {"/readings/bulk", "POST", Route::Unknown, Route::ReadingsBulk},
    {"/readings/latest", "GET, HEAD", Route::ReadingsLatest, Route::Unknown},
    {"/devices", "GET, HEAD", Route::Devices, Route::Unknown},
    {"/auth/check", "GET, HEAD", Route::AuthCheck, Route::Unknown},
    {"/health", "GET, HEAD", Route::Health, Route::Unknown},
    {"/metrics", "GET, HEAD", Route::Metrics, Route::Unknown},
};

// Content-Type and Content-Encoding checks, then gzip inflation; the decoded body or an error.
std::optional<ApiError> decodeBody(const Headers& headers, std::string_view body,
                                   const RequestLimits& limits, std::string& decoded) {
    if (const auto* ct = findHeader(headers, "Content-Type")) {
        std::string media = Poco::toLower(Poco::trim(ct->substr(0, ct->find(';'))));
        const bool json = media == "application/json" ||
                          (media.starts_with("application/") && media.ends_with("+json"));
        if (!json) {
            auto e = makeError(415, "unsupported content type",
                               "{\"header\": \"Content-Type\", \"value\": " + jsonString(*ct) +
                                   ", \"allowed\": \"application/json\"}");
            return e;
        }
    }
    std::string encoding;
    if (const auto* ce = findHeader(headers, "Content-Encoding"))
        encoding = Poco::toLower(Poco::trim(*ce));
    if (encoding.empty() || encoding == "identity") {
        decoded.assign(body);
        return std::nullopt;
    }
    if (encoding != "gzip" && encoding != "x-gzip") {
        return makeError(415, "unsupported content encoding",
                         "{\"header\": \"Content-Encoding\", \"value\": " + jsonString(encoding) +
                             ", \"allowed\": [\"gzip\", \"identity\"]}");
    }
    try {
        Poco::MemoryInputStream raw(body.data(), body.size());
        Poco::InflatingInputStream inflater(raw, Poco::InflatingStreamBuf::STREAM_GZIP);
        char buffer[16384];
        decoded.clear();
        while (inflater) {
            inflater.read(buffer, sizeof buffer);
            const auto got = inflater.gcount();
            if (got <= 0) break;
            if (static_cast<std::int64_t>(decoded.size()) + got > limits.maxBodyBytes) {
                return makeError(413, "body over the limit after gzip inflation",
                                 "{\"limit_bytes\": " + std::to_string(limits.maxBodyBytes) + "}");
            }
            decoded.append(buffer, static_cast<std::size_t>(got));
        }
        if (inflater.bad()) throw Poco::IOException("truncated gzip stream");
    } catch (const Poco::Exception& e) {
        return makeError(400, "body is not valid gzip", jsonString(e.displayText()));
    } catch (const std::exception& e) {
        return makeError(400, "body is not valid gzip", jsonString(e.what()));
    }
    return std::nullopt;
}

ApiError syntaxError(const JsonSyntaxError& e) {
    return makeError(400, "malformed JSON",
                     "{\"offset\": " + std::to_string(e.offset()) +
                         ", \"problem\": " + jsonString(e.what()) + "}");
}

bool refuseRepeatedParam(const Target& target, ApiRequest& req) {
    const std::string* repeated = repeatedParam(target);
    if (repeated) {
        req.error = makeError(422, "invalid query", "[" + fieldDetail(*repeated, "repeated") + "]");
    }
    return repeated != nullptr;
}

void parseLatestRoute(const Target& target, ApiRequest& req) {
    if (refuseRepeatedParam(target, req)) return;
    if (const std::string* device = queryParam(target, "device_id")) {
        if (auto p = deviceIdProblem(*device)) {
            req.error = makeError(422, "invalid query", "[" + fieldDetail("device_id", *p) + "]");
        } else {
            req.deviceId = *device;
        }
    }
}

void parseQueryRoute(const Target& target, const RequestLimits& limits, ApiRequest& req) {
    if (refuseRepeatedParam(target, req)) return;
    std::vector<FieldProblem> problems;
    auto timeParam = [&](const char* name, Timestamp& out) {
        const std::string* v = queryParam(target, name);
        if (!v) {
            problems.push_back({name, "required"});
        } else if (auto ts = parseTimestamp(*v)) {
            out = *ts;
        } else {
            problems.push_back({name, "not an RFC 3339 timestamp: " + v->substr(0, 64)});
        }
    };
    timeParam("start_date", req.range.start);
    timeParam("end_date", req.range.end);
    if (const std::string* device = queryParam(target, "device_id")) {
        if (auto p = deviceIdProblem(*device)) {
            problems.push_back({"device_id", *p});
        } else {
            req.range.deviceId = *device;
        }
    }
    if (const std::string* limit = queryParam(target, "limit")) {
        int n = 0;
        if (!isCanonicalPositive(*limit) || !Poco::NumberParser::tryParse(*limit, n) ||
            n > limits.maxPageRows) {
            problems.push_back(
                {"limit", "an integer from 1 to " + std::to_string(limits.maxPageRows)});
        } else {
            req.range.limit = n;
        }
    }
    if (const std::string* after = queryParam(target, "after")) {
        if (auto c = parseCursor(*after)) {
            req.range.after = *c;
        } else {
            problems.push_back({"after", "not a cursor from a Link header"});
        }
    }
    if (!problems.empty()) req.error = makeError(422, "invalid query", problemsDetail(problems));
}

void parseBody(Route route, const Headers& headers, std::string_view body,
               const RequestLimits& limits, ApiRequest& req) {
    std::string text;
    if (auto e = decodeBody(headers, body, limits, text)) {
        req.error = std::move(e);
        return;
    }
    std::size_t bad = 0;
    if (!isValidUtf8(text, &bad)) {
        req.error =
            makeError(400, "body is not valid UTF-8", "{\"offset\": " + std::to_string(bad) + "}");
        return;
    }
    // Read the whole body first: a syntax error anywhere is a 400 before any 422.
    JsonCursor c(text);
    std::vector<RawReading> items;
    RawReading single;
    std::optional<JsonCursor::Kind> rootKind, readingsKind;
    try {
        if (route == Route::ReadingsCreate) {
            single = readReading(c, 0);
        } else {
            rootKind = c.peek();
            if (*rootKind != JsonCursor::Kind::Object) {
                c.skipValue(0);
            } else {
                c.beginObject(0);
                bool first = true;
                std::string key;
                while (c.nextKey(first, key)) {
                    if (key != "readings") {
                        c.skipValue(1);
                        continue;
                    }
                    readingsKind = c.peek();
                    if (*readingsKind != JsonCursor::Kind::Array) {
                        c.skipValue(1);
                        continue;
                    }
                    items.clear();
                    c.beginArray(1);
                    bool firstItem = true;
                    while (c.nextElement(firstItem)) items.push_back(readReading(c, 2));
                }
            }
        }
        c.end();
    } catch (const JsonSyntaxError& e) {
        req.error = syntaxError(e);
        return;
    }
    if (route == Route::ReadingsCreate) {
        auto problems = validateReading(single, req.reading);
        if (!problems.empty())
            req.error = makeError(422, "invalid reading", problemsDetail(problems));
        return;
    }
    if (*rootKind != JsonCursor::Kind::Object) {
        req.error = makeError(
            422, "invalid bulk request",
            fieldDetail("(body)", std::string("must be an object {\"readings\": [...]}, not ") +
                                      JsonCursor::kindName(*rootKind)));
        return;
    }
    if (!readingsKind || *readingsKind == JsonCursor::Kind::Null) {
        req.error = makeError(422, "invalid bulk request", fieldDetail("readings", "required"));
        return;
    }
    if (*readingsKind != JsonCursor::Kind::Array) {
        req.error = makeError(422, "invalid bulk request",
                              fieldDetail("readings", std::string("must be an array, not ") +
                                                          JsonCursor::kindName(*readingsKind)));
        return;
    }
    req.bulkCount = items.size();
    if (items.size() > static_cast<std::size_t>(limits.maxBatch)) {
        req.error =
            makeError(413, "too many readings",
                      "{\"field\": \"readings\", \"count\": " + std::to_string(items.size()) +
                          ", \"max\": " + std::to_string(limits.maxBatch) + "}");
        return;
    }
    req.readings.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        ReadingInput r;
        auto problems = validateReading(items[i], r);
        if (problems.empty()) {
            req.readings.push_back(std::move(r));
            req.readingIndex.push_back(i);
        } else {
            req.rejected.push_back({i, problems.front().field, joinProblems(problems)});
        }
    }
}

}  // namespace

std::optional<std::string> canonicalUuid(std::string_view s) {
    if (s.size() != 36) return std::nullopt;
    std::string out(s);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (out[i] != '-') return std::nullopt;
        } else {
            if (hexValue(out[i]) < 0) return std::nullopt;
            out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
        }
    }
    return out;
}

std::string formatCursor(const Cursor& c) {
    return std::to_string(c.tsLocalMicros) + "." + std::to_string(c.id);
}

std::optional<Cursor> parseCursor(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    Poco::Int64 ts = 0, id = 0;
    if (!Poco::NumberParser::tryParse64(std::string(text.substr(0, dot)), ts) ||
        !Poco::NumberParser::tryParse64(std::string(text.substr(dot + 1)), id) || id < 0) {
        return std::nullopt;
    }
    // Instants PostgreSQL's timestamptz and our formatter can both represent (years 1..9999).
    if (ts < -62135596800LL * 1000000 || ts > 253402300799LL * 1000000) return std::nullopt;
    return Cursor{ts, id};
}

std::string encodeQueryValue(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

ApiRequest parseRequest(std::string_view method, std::string_view target, const Headers& headers,
                        std::string_view body, const RequestLimits& limits) {
    ApiRequest req;
    if (const auto* auth = findHeader(headers, "Authorization")) {
        std::string value = Poco::trim(*auth);
        if (value.size() > 7 && Poco::icompare(value.substr(0, 7), "bearer ") == 0) {
            std::string token = Poco::trim(value.substr(7));
            if (token.empty()) {
                req.authorizationMalformed = true;
            } else {
                req.bearer = std::move(token);
            }
        } else {
            req.authorizationMalformed = true;
        }
    }
    auto parsed = splitTarget(target);
    if (!parsed || parsed->path.empty() || parsed->path.front() != '/') {
        req.error = makeError(400, "malformed request target",
                              jsonString(std::string(target.substr(0, 200))));
        return req;
    }
    const RouteSpec* spec = nullptr;
    for (const auto& r : kRoutes) {
        if (parsed->path == r.path) spec = &r;
    }
    if (!spec) {
        req.error = makeError(404, "not found",
                              "{\"path\": " + jsonString(parsed->path.substr(0, 200)) + "}");
        return req;
    }
    const bool isGet = method == "GET" || method == "HEAD";
    const Route route = isGet ? spec->get : (method == "POST" ? spec->post : Route::Unknown);
    if (route == Route::Unknown) {
        req.error = makeError(405, "method not allowed",
                              "{\"method\": " + jsonString(std::string(method.substr(0, 32))) +
                                  ", \"allowed\": " + jsonString(spec->allow) + "}");
        req.error->headers.emplace_back("Allow", spec->allow);
        return req;
    }
    req.route = route;
    req.head = method == "HEAD";
    if (static_cast<std::int64_t>(body.size()) > limits.maxBodyBytes) {
        req.error = makeError(413, "body over the limit",
                              "{\"limit_bytes\": " + std::to_string(limits.maxBodyBytes) + "}");
        return req;
    }
    switch (route) {
        case Route::ReadingsCreate:
        case Route::ReadingsBulk:
            parseBody(route, headers, body, limits, req);
            break;
        case Route::ReadingsQuery:
            parseQueryRoute(*parsed, limits, req);
            break;
        case Route::ReadingsLatest:
            parseLatestRoute(*parsed, req);
            break;
        default:
            break;
    }
    return req;
}

}  // namespace sensorsys::server
