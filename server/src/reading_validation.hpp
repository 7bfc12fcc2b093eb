// Readings out of a request body: the strict JSON walk over what POST /readings and
// POST /readings/bulk send, and the validation of each reading (device_id, timestamps,
// reading_id, payload) into ReadingInput or field problems. Pure functions; thread-safe.
#pragma once

#include "api_request.hpp"
#include "json_answer.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::server {

struct FieldProblem {
    std::string field;
    std::string problem;
};

// {"field": ..., "problem": ...} and an array of them: the detail of a 422.
Poco::JSON::Object::Ptr fieldDetail(std::string_view field, std::string_view problem);
Poco::JSON::Array::Ptr problemsDetail(const std::vector<FieldProblem>& problems);

// What is wrong with a device id (empty, not UTF-8, too long, control characters), if anything.
std::optional<std::string> deviceIdProblem(std::string_view id);

// Readers of the built-in write routes (RouteEntry::reader): POST /readings, POST /readings/bulk.
void readReadingBody(const RequestTarget& target, const Headers& headers, std::string_view body,
                     const RequestLimits& limits, ApiRequest& request);
void readBulkBody(const RequestTarget& target, const Headers& headers, std::string_view body,
                  const RequestLimits& limits, ApiRequest& request);

}  // namespace sensorsys::server
