#include "reading_validation.hpp"

#include "body_decoding.hpp"

#include <sensorsys/common/json_cursor.hpp>
#include <sensorsys/common/json_text.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace sensorsys::server {

namespace {

constexpr std::size_t kMaxDeviceIdChars = 128;

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
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
    RawField readingId, deviceId, tsUtc, tsLocal, tsQuality, payload;
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
        } else if (key == "ts_quality") {
            readField(c, r.tsQuality, depth + 1, false);
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

void identityFields(const RawReading& r, ReadingInput& out, std::vector<FieldProblem>& problems) {
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
}

// 2000-01-01T00:00:00Z: no reading is older; an earlier ts_utc is a clock that never learned
// the time.
constexpr std::int64_t kEarliestMicros = 946'684'800'000'000;

// A ts_utc only a broken clock produces: too far ahead of ours, or before 2000.
void plausibleTime(const Timestamp& ts, const RequestLimits& limits,
                   std::vector<FieldProblem>& problems) {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (ts.epochMicros > now + limits.maxFutureSeconds * 1'000'000) {
        problems.push_back({"ts_utc", "more than " + std::to_string(limits.maxFutureSeconds) +
                                          " s ahead of the server's clock (" +
                                          formatUtcForSql(now) + ")"});
    } else if (ts.epochMicros < kEarliestMicros) {
        problems.push_back({"ts_utc", "before 2000-01-01"});
    }
}

// ts_local is the same instant as ts_utc written with the device's offset (kMaxLocalSkewMicros).
void nearUtc(const ReadingInput& r, std::vector<FieldProblem>& problems) {
    const std::int64_t skew = r.tsLocal.epochMicros - r.tsUtc.epochMicros;
    if (skew > kMaxLocalSkewMicros || skew < -kMaxLocalSkewMicros) {
        problems.push_back({"ts_local", "more than 14 hours from ts_utc (" +
                                            std::to_string(skew / 1'000'000) + " s apart)"});
    }
}

void qualityField(const RawField& f, ReadingInput& out, std::vector<FieldProblem>& problems) {
    if (const std::string* q = stringField(f, "ts_quality", false, problems)) {
        if (*q == "corrected" || *q == "unsynced") {
            out.tsQuality = *q;
        } else {
            problems.push_back({"ts_quality", "must be \"corrected\" or \"unsynced\""});
        }
    }
}

// Validates one reading; on success fills out and returns no problems.
std::vector<FieldProblem> validateReading(const RawReading& r, const RequestLimits& limits,
                                          ReadingInput& out) {
    std::vector<FieldProblem> problems;
    if (!r.isObject) {
        problems.push_back(
            {"(reading)", std::string("must be an object, not ") + JsonCursor::kindName(r.kind)});
        return problems;
    }
    identityFields(r, out, problems);
    timestampField(r.tsUtc, "ts_utc", out.tsUtc, problems);
    if (problems.empty() || problems.back().field != "ts_utc") {
        plausibleTime(out.tsUtc, limits, problems);
    }
    timestampField(r.tsLocal, "ts_local", out.tsLocal, problems);
    if (std::none_of(problems.begin(), problems.end(), [](const FieldProblem& p) {
            return p.field == "ts_utc" || p.field == "ts_local";
        })) {
        nearUtc(out, problems);
    }
    qualityField(r.tsQuality, out, problems);
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

ApiError syntaxError(const JsonSyntaxError& e) {
    return apiError(400, "malformed JSON",
                    jsonObject({{"offset", e.offset()}, {"problem", std::string(e.what())}}));
}

// What a bulk body holds: the kind of its root, of its "readings" member and the items.
struct RawBulk {
    JsonCursor::Kind rootKind = JsonCursor::Kind::Object;
    std::optional<JsonCursor::Kind> readingsKind;
    std::vector<RawReading> items;
};

void readBulkMembers(JsonCursor& c, RawBulk& bulk) {
    c.beginObject(0);
    bool first = true;
    std::string key;
    while (c.nextKey(first, key)) {
        if (key != "readings") {
            c.skipValue(1);
            continue;
        }
        bulk.readingsKind = c.peek();
        if (*bulk.readingsKind != JsonCursor::Kind::Array) {
            c.skipValue(1);
            continue;
        }
        bulk.items.clear();
        c.beginArray(1);
        bool firstItem = true;
        while (c.nextElement(firstItem)) bulk.items.push_back(readReading(c, 2));
    }
}

// The shape errors of a bulk body (not an object, no "readings" array), if any.
std::optional<ApiError> bulkShapeError(const RawBulk& bulk) {
    if (bulk.rootKind != JsonCursor::Kind::Object) {
        return apiError(
            422, "invalid bulk request",
            fieldDetail("(body)", std::string("must be an object {\"readings\": [...]}, not ") +
                                      JsonCursor::kindName(bulk.rootKind)));
    }
    if (!bulk.readingsKind || *bulk.readingsKind == JsonCursor::Kind::Null)
        return apiError(422, "invalid bulk request", fieldDetail("readings", "required"));
    if (*bulk.readingsKind != JsonCursor::Kind::Array) {
        return apiError(422, "invalid bulk request",
                        fieldDetail("readings", std::string("must be an array, not ") +
                                                    JsonCursor::kindName(*bulk.readingsKind)));
    }
    return std::nullopt;
}

void validateBulkItems(const std::vector<RawReading>& items, const RequestLimits& limits,
                       ApiRequest& req) {
    req.readings.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        ReadingInput r;
        auto problems = validateReading(items[i], limits, r);
        if (problems.empty()) {
            req.readings.push_back(std::move(r));
            req.readingIndex.push_back(i);
        } else {
            req.rejected.push_back({i, problems.front().field, joinProblems(problems)});
        }
    }
}

// Decodes the body into text and walks all of it with walk; false with req.error set when the
// body cannot be decoded or is not JSON. The whole body is read first: a syntax error anywhere
// is a 400 before any 422.
template <class Walk>
bool walkBody(const Headers& headers, std::string_view body, const RequestLimits& limits,
              ApiRequest& req, std::string& text, Walk&& walk) {
    if (auto e = decodeJsonBody(headers, body, limits, text)) {
        req.error = std::move(e);
        return false;
    }
    JsonCursor c(text);
    try {
        walk(c);
        c.end();
    } catch (const JsonSyntaxError& e) {
        req.error = syntaxError(e);
        return false;
    }
    return true;
}

}  // namespace

Poco::JSON::Object::Ptr fieldDetail(std::string_view field, std::string_view problem) {
    return jsonObject({{"field", std::string(field)}, {"problem", std::string(problem)}});
}

Poco::JSON::Array::Ptr problemsDetail(const std::vector<FieldProblem>& problems) {
    auto detail = jsonArray();
    for (const auto& p : problems) detail->add(fieldDetail(p.field, p.problem));
    return detail;
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

void readReadingBody(const RequestTarget&, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& req) {
    std::string text;
    RawReading single;
    if (!walkBody(headers, body, limits, req, text,
                  [&](JsonCursor& c) { single = readReading(c, 0); }))
        return;
    auto problems = validateReading(single, limits, req.reading);
    if (!problems.empty()) req.error = apiError(422, "invalid reading", problemsDetail(problems));
}

void readBulkBody(const RequestTarget&, const Headers& headers, std::string_view body,
                  const RequestLimits& limits, ApiRequest& req) {
    std::string text;
    RawBulk bulk;
    const bool read = walkBody(headers, body, limits, req, text, [&](JsonCursor& c) {
        bulk.rootKind = c.peek();
        if (bulk.rootKind != JsonCursor::Kind::Object) {
            c.skipValue(0);
        } else {
            readBulkMembers(c, bulk);
        }
    });
    if (!read) return;
    if (auto e = bulkShapeError(bulk)) {
        req.error = std::move(e);
        return;
    }
    req.bulkCount = bulk.items.size();
    if (bulk.items.size() > static_cast<std::size_t>(limits.maxBatch)) {
        req.error = apiError(
            413, "too many readings",
            jsonObject(
                {{"field", "readings"}, {"count", bulk.items.size()}, {"max", limits.maxBatch}}));
        return;
    }
    validateBulkItems(bulk.items, limits, req);
}

}  // namespace sensorsys::server
