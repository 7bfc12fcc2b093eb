#include "series_query.hpp"

#include "api_request.hpp"
#include "metric_path.hpp"
#include "reading_validation.hpp"

#include <Poco/NumberParser.h>

#include <algorithm>
#include <chrono>

namespace sensorsys::server {

const std::vector<SeriesStep>& seriesSteps() {
    static const std::vector<SeriesStep> steps{
        {"1m", 60, SeriesStepKind::Elapsed},      {"5m", 300, SeriesStepKind::Elapsed},
        {"15m", 900, SeriesStepKind::Elapsed},    {"1h", 3600, SeriesStepKind::Elapsed},
        {"6h", 21600, SeriesStepKind::WallClock}, {"1d", 86400, SeriesStepKind::WallClock},
    };
    return steps;
}

std::optional<SeriesStep> findSeriesStep(std::string_view name) {
    for (const auto& step : seriesSteps())
        if (step.name == name) return step;
    return std::nullopt;
}

std::int64_t seriesBuckets(const SeriesStep& step, std::int64_t rangeMicros) {
    const std::int64_t length = step.seconds * 1000000;
    // A wall-clock bucket may be an hour shorter (DST) and the range may start mid-bucket.
    const std::int64_t extra = step.kind == SeriesStepKind::WallClock ? 2 : 1;
    return (rangeMicros + length - 1) / length + extra - 1;
}

SeriesStep autoSeriesStep(std::int64_t rangeMicros, int points) {
    for (const auto& step : seriesSteps())
        if (seriesBuckets(step, rangeMicros) <= points) return step;
    return seriesSteps().back();
}

std::optional<std::string> timeZoneNameProblem(std::string_view text) {
    if (text.empty()) return "empty";
    if (text.size() > 64) return "at most 64 characters";
    if (text.front() == '/' || text.back() == '/' || text.find("..") != std::string_view::npos ||
        text.find("//") != std::string_view::npos)
        return "an IANA time zone name such as Europe/Berlin";
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok) return "an IANA time zone name such as Europe/Berlin";
    }
    return std::nullopt;
}

namespace {

// The values of every occurrence of name, in order.
std::vector<std::string> allValues(const RequestTarget& target, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [key, value] : target.query)
        if (key == name) out.push_back(value);
    return out;
}

// device_id and metric repeat; the others are single-valued (see RequestTarget::repeated).
std::optional<std::string_view> repeatedSingle(const RequestTarget& target) {
    static constexpr std::string_view kSingle[] = {"start_date", "end_date", "step", "points",
                                                   "tz"};
    for (const auto name : kSingle)
        if (allValues(target, name).size() > 1) return name;
    return std::nullopt;
}

void listParam(const RequestTarget& target, const char* name, std::size_t most,
               std::optional<std::string> (*problemOf)(std::string_view),
               std::vector<std::string>& out, std::vector<FieldProblem>& problems) {
    out = allValues(target, name);
    if (out.empty()) {
        problems.push_back({name, "required"});
    } else if (out.size() > most) {
        problems.push_back({name, "at most " + std::to_string(most) + " values"});
    } else {
        for (const auto& value : out) {
            if (auto p = problemOf(value)) {
                problems.push_back({name, *p});
                return;
            }
        }
    }
}

std::optional<Timestamp> optionalTime(const RequestTarget& target, const char* name,
                                      std::vector<FieldProblem>& problems) {
    const std::string* v = target.param(name);
    if (!v) return std::nullopt;
    auto ts = parseTimestamp(*v);
    if (!ts) problems.push_back({name, "not an RFC 3339 timestamp: " + v->substr(0, 64)});
    return ts;
}

void rangeParams(const RequestTarget& target, SeriesQuery& q, std::vector<FieldProblem>& problems) {
    constexpr std::int64_t kDay = 86400LL * 1000000;
    const auto start = optionalTime(target, "start_date", problems);
    const auto end = optionalTime(target, "end_date", problems);
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    q.end = end ? *end : (start ? Timestamp{start->epochMicros + kDay, 0} : Timestamp{now, 0});
    q.start = start ? *start : Timestamp{q.end.epochMicros - kDay, 0};
    if (q.end.epochMicros < q.start.epochMicros)
        problems.push_back({"end_date", "before start_date"});
}

int pointsParam(const RequestTarget& target, const RequestLimits& limits,
                std::vector<FieldProblem>& problems) {
    const std::string* v = target.param("points");
    if (!v) return std::min(kSeriesDefaultPoints, limits.seriesPoints);
    int n = 0;
    const bool canonical = !v->empty() && v->size() <= 9 && v->front() != '0' &&
                           v->find_first_not_of("0123456789") == std::string::npos;
    if (!canonical || !Poco::NumberParser::tryParse(*v, n) || n > limits.seriesPoints) {
        problems.push_back(
            {"points", "an integer from 1 to " + std::to_string(limits.seriesPoints)});
        return kSeriesDefaultPoints;
    }
    return n;
}

void stepParam(const RequestTarget& target, const RequestLimits& limits, SeriesQuery& q,
               std::vector<FieldProblem>& problems) {
    const int points = pointsParam(target, limits, problems);
    const std::int64_t range = q.end.epochMicros - q.start.epochMicros;
    const std::string* v = target.param("step");
    if (!v || *v == "auto") {
        q.step = autoSeriesStep(range, points);
    } else if (auto step = findSeriesStep(*v)) {
        q.step = *step;
    } else {
        problems.push_back({"step", "one of 1m, 5m, 15m, 1h, 6h, 1d, auto"});
        return;
    }
    if (seriesBuckets(q.step, range) > limits.seriesPoints) {
        problems.push_back({"step", "more than " + std::to_string(limits.seriesPoints) +
                                        " buckets over this range: a coarser step or a shorter "
                                        "range"});
    }
}

}  // namespace

void readSeriesQuery(const RequestTarget& target, const Headers&, std::string_view,
                     const RequestLimits& limits, ApiRequest& req) {
    if (auto name = repeatedSingle(target)) {
        req.error = apiError(422, "invalid query", jsonArray({fieldDetail(*name, "repeated")}));
        return;
    }
    auto& q = req.series;
    std::vector<FieldProblem> problems;
    listParam(target, "device_id", kSeriesMaxDevices, &deviceIdProblem, q.deviceIds, problems);
    listParam(target, "metric", kSeriesMaxMetrics, &metricPathProblem, q.metrics, problems);
    rangeParams(target, q, problems);
    if (const std::string* tz = target.param("tz")) {
        if (auto p = timeZoneNameProblem(*tz)) {
            problems.push_back({"tz", *p});
        } else {
            q.tz = *tz;
        }
    }
    const bool rangeOk = std::none_of(problems.begin(), problems.end(), [](const auto& p) {
        return p.field == "start_date" || p.field == "end_date";
    });
    if (rangeOk) stepParam(target, limits, q, problems);
    if (!problems.empty()) req.error = apiError(422, "invalid query", problemsDetail(problems));
}

void readDeviceMetricsQuery(const RequestTarget& target, const Headers&, std::string_view,
                            const RequestLimits&, ApiRequest& req) {
    const std::string* device = target.pathParam("device_id");
    if (!device) return;
    if (auto p = deviceIdProblem(*device)) {
        req.error = apiError(422, "invalid path", jsonArray({fieldDetail("device_id", *p)}));
    } else {
        req.deviceId = *device;
    }
}

}  // namespace sensorsys::server
