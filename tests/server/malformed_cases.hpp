// The table of malformed requests: each must get its 4xx with a JSON error naming the problem.
// Shared by the parser's unit test (no socket) and the HTTP test (real server).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sensorsys::server::testing {

struct MalformedCase {
    std::string name;
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int status;
    std::string mentions;        // text the error body must contain (field, header, index...)
    bool needsDatabase = false;  // refused by PostgreSQL (an unknown time zone), not the parser
};

std::string gzipText(const std::string& text);
std::vector<MalformedCase> malformedCases();

}  // namespace sensorsys::server::testing
