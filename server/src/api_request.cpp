#include "api_request.hpp"

#include "feed_cursor.hpp"
#include "json_answer.hpp"
#include "metric_path.hpp"
#include "reading_validation.hpp"
#include "route_table.hpp"
#include "websocket_frame.hpp"

#include <Poco/NumberParser.h>
#include <Poco/String.h>

namespace sensorsys::server {

const std::string* findHeader(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && Poco::icompare(key, std::string(name)) == 0) return &value;
    }
    return nullptr;
}

std::string ApiError::body() const {
    return jsonText(jsonObject({{"error", error}, {"detail", detail}}));
}

ApiError apiError(int status, std::string error, Poco::Dynamic::Var detail) {
    ApiError e;
    e.status = status;
    e.error = std::move(error);
    e.detail = std::move(detail);
    return e;
}

namespace {

void readAuthorization(const Headers& headers, ApiRequest& req) {
    const auto* auth = findHeader(headers, "Authorization");
    if (!auth) return;
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

void timeParam(const RequestTarget& target, const char* name, Timestamp& out,
               std::vector<FieldProblem>& problems) {
    const std::string* v = target.param(name);
    if (!v) {
        problems.push_back({name, "required"});
    } else if (auto ts = parseTimestamp(*v)) {
        out = *ts;
    } else {
        problems.push_back({name, "not an RFC 3339 timestamp: " + v->substr(0, 64)});
    }
}

// Only the canonical decimal form: no sign, no leading zero, no blanks ("+5", "05" refused).
bool isCanonicalPositive(const std::string& text) {
    return !text.empty() && text.size() <= 9 && text.front() != '0' &&
           text.find_first_not_of("0123456789") == std::string::npos;
}

bool refuseRepeatedParam(const RequestTarget& target, ApiRequest& req) {
    const std::string* repeated = target.repeated();
    if (repeated) {
        req.error = apiError(422, "invalid query", jsonArray({fieldDetail(*repeated, "repeated")}));
    }
    return repeated != nullptr;
}

void pagingParams(const RequestTarget& target, const RequestLimits& limits, RangeQuery& range,
                  std::vector<FieldProblem>& problems) {
    if (const std::string* limit = target.param("limit")) {
        int n = 0;
        if (!isCanonicalPositive(*limit) || !Poco::NumberParser::tryParse(*limit, n) ||
            n > limits.maxPageRows) {
            problems.push_back(
                {"limit", "an integer from 1 to " + std::to_string(limits.maxPageRows)});
        } else {
            range.limit = n;
        }
    }
    if (const std::string* after = target.param("after")) {
        if (auto c = parseCursor(*after)) {
            range.after = *c;
        } else {
            problems.push_back({"after", "not a cursor from a Link header"});
        }
    }
}

// start_date, end_date (inclusive, by ts_local) and the optional device_id.
void rangeFilters(const RequestTarget& target, RangeQuery& range,
                  std::vector<FieldProblem>& problems) {
    timeParam(target, "start_date", range.start, problems);
    timeParam(target, "end_date", range.end, problems);
    if (problems.empty() && range.end.epochMicros < range.start.epochMicros)
        problems.push_back({"end_date", "before start_date"});
    if (const std::string* device = target.param("device_id")) {
        if (auto p = deviceIdProblem(*device)) {
            problems.push_back({"device_id", *p});
        } else {
            range.deviceId = *device;
        }
    }
}

}  // namespace

void readRangeQuery(const RequestTarget& target, const Headers&, std::string_view,
                    const RequestLimits& limits, ApiRequest& req) {
    if (refuseRepeatedParam(target, req)) return;
    std::vector<FieldProblem> problems;
    rangeFilters(target, req.range, problems);
    pagingParams(target, limits, req.range, problems);
    if (!problems.empty()) req.error = apiError(422, "invalid query", problemsDetail(problems));
}

void readAlertHistoryQuery(const RequestTarget& target, const Headers&, std::string_view,
                           const RequestLimits&, ApiRequest& req) {
    if (refuseRepeatedParam(target, req)) return;
    std::vector<FieldProblem> problems;
    rangeFilters(target, req.range, problems);
    if (!problems.empty()) req.error = apiError(422, "invalid query", problemsDetail(problems));
}

void readAlertId(const RequestTarget& target, const Headers&, std::string_view,
                 const RequestLimits&, ApiRequest& req) {
    const std::string* id = target.pathParam("id");
    if (!id) return;
    if (!isCanonicalPositive(*id) || !Poco::NumberParser::tryParse64(*id, req.alertId)) {
        req.error = apiError(404, "no such alert", jsonObject({{"id", *id}}));
    }
}

void readExportQuery(const RequestTarget& target, const Headers&, std::string_view,
                     const RequestLimits&, ApiRequest& req) {
    auto& q = req.exportQuery;
    std::vector<FieldProblem> problems;
    for (std::size_t i = 0; i < target.query.size(); ++i) {
        for (std::size_t j = i + 1; j < target.query.size(); ++j) {
            const auto& name = target.query[i].first;
            if (name != "metric" && name == target.query[j].first) {
                req.error =
                    apiError(422, "invalid query", jsonArray({fieldDetail(name, "repeated")}));
                return;
            }
        }
    }
    rangeFilters(target, q.range, problems);
    const std::string* format = target.param("format");
    if (!format || (*format != "csv" && *format != "ndjson")) {
        problems.push_back({"format", "csv or ndjson"});
    } else {
        q.csv = *format == "csv";
    }
    for (const auto& [key, value] : target.query) {
        if (key != "metric") continue;
        if (auto p = metricPathProblem(value)) {
            problems.push_back({"metric", *p});
            break;
        }
        q.metrics.push_back(value);
    }
    if (q.metrics.size() > kSeriesMaxMetrics * 10)
        problems.push_back({"metric", "at most " + std::to_string(kSeriesMaxMetrics * 10)});
    if (!problems.empty()) req.error = apiError(422, "invalid query", problemsDetail(problems));
}

void readLatestQuery(const RequestTarget& target, const Headers&, std::string_view,
                     const RequestLimits&, ApiRequest& req) {
    if (refuseRepeatedParam(target, req)) return;
    const std::string* device = target.param("device_id");
    if (!device) return;
    if (auto p = deviceIdProblem(*device)) {
        req.error = apiError(422, "invalid query", jsonArray({fieldDetail("device_id", *p)}));
    } else {
        req.deviceId = *device;
    }
}

namespace {

bool headerHasToken(const Headers& headers, std::string_view name, std::string_view token) {
    const std::string* value = findHeader(headers, name);
    if (!value) return false;
    return Poco::toLower(*value).find(token) != std::string::npos;
}

// device_id (repeatable) and since (or Last-Event-ID) of both live routes.
void readLiveFilter(const RequestTarget& target, const Headers& headers, ApiRequest& req) {
    for (const auto& [name, value] : target.query) {
        if (name == "device_id") {
            if (auto p = deviceIdProblem(value)) {
                req.error = apiError(422, "invalid query", jsonArray({fieldDetail(name, *p)}));
                return;
            }
            req.live.devices.push_back(value);
        }
    }
    const std::string* since = target.param("since");
    if (!since) since = findHeader(headers, "Last-Event-ID");
    if (!since) return;
    if (!FeedCursor::parse(*since)) {
        req.error = apiError(422, "invalid query",
                             jsonArray({fieldDetail("since", "not a cursor of the live feed")}));
        return;
    }
    req.live.since = *since;
}

}  // namespace

void readLiveSocket(const RequestTarget& target, const Headers& headers, std::string_view,
                    const RequestLimits&, ApiRequest& req) {
    req.live.webSocket = true;
    // Upgrade alone: the framing layer rewrites the Connection field before the routes see it.
    if (!headerHasToken(headers, "Upgrade", "websocket")) {
        req.error = apiError(426, "GET /live is a WebSocket: Upgrade: websocket required");
        req.error->headers.emplace_back("Upgrade", "websocket");
        return;
    }
    const std::string* version = findHeader(headers, "Sec-WebSocket-Version");
    if (!version || Poco::trim(*version) != "13") {
        req.error = apiError(426, "unsupported WebSocket version",
                             jsonObject({{"header", "Sec-WebSocket-Version"}}));
        req.error->headers.emplace_back("Sec-WebSocket-Version", "13");
        return;
    }
    const std::string* key = findHeader(headers, "Sec-WebSocket-Key");
    const auto accept = key ? websocket::acceptKey(Poco::trim(*key)) : std::nullopt;
    if (!accept) {
        req.error = apiError(400, "invalid or missing Sec-WebSocket-Key",
                             jsonObject({{"header", "Sec-WebSocket-Key"}}));
        return;
    }
    req.live.acceptKey = *accept;
    readLiveFilter(target, headers, req);
}

void readEventStream(const RequestTarget& target, const Headers& headers, std::string_view,
                     const RequestLimits&, ApiRequest& req) {
    readLiveFilter(target, headers, req);
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

ApiRequest parseRequest(const RouteTable& routes, std::string_view method, std::string_view target,
                        const Headers& headers, std::string_view body,
                        const RequestLimits& limits) {
    ApiRequest req;
    readAuthorization(headers, req);
    auto parsed = parseTarget(target);
    if (!parsed || parsed->path.empty() || parsed->path.front() != '/') {
        req.error = apiError(400, "malformed request target", std::string(target.substr(0, 200)));
        return req;
    }
    req.entry = routes.match(method, parsed->path, req.error, &parsed->pathParams);
    if (!req.entry) return req;
    req.route = req.entry->route;
    req.head = method == "HEAD";
    if (static_cast<std::int64_t>(body.size()) > limits.maxBodyBytes) {
        req.error = apiError(413, "body over the limit",
                             jsonObject({{"limit_bytes", limits.maxBodyBytes}}));
        return req;
    }
    if (req.entry->reader) req.entry->reader(*parsed, headers, body, limits, req);
    return req;
}

ApiRequest parseRequest(std::string_view method, std::string_view target, const Headers& headers,
                        std::string_view body, const RequestLimits& limits) {
    return parseRequest(apiRoutes(), method, target, headers, body, limits);
}

}  // namespace sensorsys::server
