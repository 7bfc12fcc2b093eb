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

    // The first value of the query parameter name; nullptr when absent.
    const std::string* param(std::string_view name) const;
};

// The path (everything before '?', percent-decoded) and the query (up to a '#'); nothing when
// either holds a broken percent-escape.
std::optional<RequestTarget> parseTarget(std::string_view target);

// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
std::string encodeQueryValue(std::string_view value);

}  // namespace sensorsys::server
