// The request-target of an API request split into its decoded path and query parameters
// (Poco::URI's decoding: '+' is a space in the query, a broken percent-escape is refused).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensorsys::server {

struct RequestTarget {
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    // The segments a route's "{name}" took ("/devices/{device_id}/metrics"), set by routing.
    std::vector<std::pair<std::string, std::string>> pathParams;

    // The first value of the query parameter name; nullptr when absent.
    const std::string* param(std::string_view name) const;
    // The name of the first parameter given more than once; nullptr when none is. Routes whose
    // parameters are single-valued refuse a repeat rather than let "the first one win" (a proxy
    // or cache in front may have taken the other one).
    const std::string* repeated() const;
    // The path segment the route's "{name}" matched; nullptr when the route has none.
    const std::string* pathParam(std::string_view name) const;
};

// The path (everything before '?', percent-decoded) and the query (up to a '#'); nothing when
// either holds a broken percent-escape.
std::optional<RequestTarget> parseTarget(std::string_view target);

// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
std::string encodeQueryValue(std::string_view value);

}  // namespace sensorsys::server
