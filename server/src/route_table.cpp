#include "route_table.hpp"

#include "json_answer.hpp"

#include <set>

namespace sensorsys::server {

namespace {

bool answers(const RouteEntry& entry, std::string_view method) {
    return entry.method == method || (method == "HEAD" && entry.method == "GET");
}

}  // namespace

RouteTable& RouteTable::add(const RouteEntry& entry) {
    _entries.push_back(entry);
    return *this;
}

const RouteEntry* RouteTable::match(std::string_view method, const std::string& path,
                                    std::optional<ApiError>& error) const {
    bool pathKnown = false;
    for (const auto& entry : _entries) {
        if (entry.path != path) continue;
        if (answers(entry, method)) return &entry;
        pathKnown = true;
    }
    if (!pathKnown) {
        error = apiError(404, "not found", jsonObject({{"path", path.substr(0, 200)}}));
        return nullptr;
    }
    const std::string allowed = allow(path);
    error =
        apiError(405, "method not allowed",
                 jsonObject({{"method", std::string(method.substr(0, 32))}, {"allowed", allowed}}));
    error->headers.emplace_back("Allow", allowed);
    return nullptr;
}

std::string RouteTable::allow(std::string_view path) const {
    std::set<std::string_view> methods;  // sorted: "GET, HEAD, POST"
    for (const auto& entry : _entries) {
        if (entry.path != path) continue;
        methods.insert(entry.method);
        if (entry.method == "GET") methods.insert("HEAD");
    }
    std::string out;
    for (const auto method : methods) {
        if (!out.empty()) out += ", ";
        out += method;
    }
    return out;
}

std::vector<Route> RouteTable::routes() const {
    std::vector<Route> out{Route::Unknown};
    for (const auto& entry : _entries) out.push_back(entry.route);
    return out;
}

}  // namespace sensorsys::server
