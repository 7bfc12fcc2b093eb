// A request body made JSON text: the Content-Type check, the Content-Encoding (identity or
// gzip, inflated within the body limit) and the UTF-8 check. Pure function; thread-safe.
#pragma once

#include "api_request.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server {

// The decoded body in text, or the error that answers the request (400, 413 or 415).
std::optional<ApiError> decodeJsonBody(const Headers& headers, std::string_view body,
                                       const RequestLimits& limits, std::string& text);

}  // namespace sensorsys::server
