#include "route_table.hpp"

#include "json_answer.hpp"

#include <algorithm>
#include <set>

namespace sensorsys::server {

namespace {

bool answers(const RouteEntry& entry, std::string_view method) {
    return entry.method == method || (method == "HEAD" && entry.method == "GET");
}

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t slash = path.find('/', pos);
        out.push_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
        if (slash == std::string_view::npos) return out;
        pos = slash + 1;
    }
}

bool pathMatches(std::string_view pattern, std::string_view path,
                 std::vector<std::pair<std::string, std::string>>* params) {
    if (pattern.find('{') == std::string_view::npos) return pattern == path;
    const auto want = segments(pattern), have = segments(path);
    if (want.size() != have.size()) return false;
    std::vector<std::pair<std::string, std::string>> found;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i].starts_with('{') && want[i].ends_with('}')) {
            if (have[i].empty()) return false;
            found.emplace_back(std::string(want[i].substr(1, want[i].size() - 2)),
                               std::string(have[i]));
        } else if (want[i] != have[i]) {
            return false;
        }
    }
    if (params) *params = std::move(found);
    return true;
}

}  // namespace

RouteTable& RouteTable::add(const RouteEntry& entry) {
    _entries.push_back(entry);
    return *this;
}

const RouteEntry* RouteTable::match(
    std::string_view method, const std::string& path, std::optional<ApiError>& error,
    std::vector<std::pair<std::string, std::string>>* params) const {
    bool pathKnown = false;
    for (const auto& entry : _entries) {
        if (!pathMatches(entry.path, path, params)) continue;
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
        if (!pathMatches(entry.path, path, nullptr)) continue;
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
    // A route served by several entries (the dashboard's files) is one label.
    for (const auto& entry : _entries) {
        if (std::find(out.begin(), out.end(), entry.route) == out.end()) out.push_back(entry.route);
    }
    return out;
}

}  // namespace sensorsys::server
