#include "static_files.hpp"

#include <Poco/DeflatingStream.h>

#include <array>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sensorsys::server {

namespace fs = std::filesystem;

namespace {

// A segment that may appear in a served path: no traversal, no hidden or editor files, nothing
// a filesystem or a later decoder could read differently.
bool safeSegment(std::string_view segment) {
    if (segment.empty() || segment.front() == '.' || segment.size() > 255) return false;
    for (const char c : segment) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\' || c == ':') return false;
    }
    return true;
}

bool insideRoot(const fs::path& root, const fs::path& file) {
    auto r = root.begin();
    auto f = file.begin();
    for (; r != root.end(); ++r, ++f) {
        if (f == file.end() || *r != *f) return false;
    }
    return f != file.end();
}

}  // namespace

std::optional<fs::path> resolveStaticPath(const fs::path& root, std::string_view requestPath) {
    // An empty root is "no dashboard", never the working directory.
    if (root.empty() || !requestPath.starts_with('/')) return std::nullopt;
    std::string_view rest = requestPath.substr(1);
    if (rest.empty()) rest = "index.html";
    fs::path relative;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (!safeSegment(segment)) return std::nullopt;
        relative /= std::string(segment);
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
        if (rest.empty()) return std::nullopt;  // "/js/": a directory
    }
    std::error_code ec;
    const fs::path base = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    // canonical() follows every symlink: a link pointing out of the root lands outside it.
    const fs::path file = fs::canonical(base / relative, ec);
    if (ec || !insideRoot(base, file) || !fs::is_regular_file(file, ec)) return std::nullopt;
    return file;
}

std::string_view staticContentType(const fs::path& file) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    }};
    const std::string extension = file.extension().string();
    for (const auto& [ext, type] : kTypes) {
        if (ext == extension) return type;
    }
    return "application/octet-stream";
}

bool compressibleType(std::string_view contentType) {
    return contentType.starts_with("text/") || contentType.starts_with("image/svg") ||
           contentType.starts_with("application/json") ||
           contentType.starts_with("application/manifest");
}

std::optional<StaticFile> loadStaticFile(const fs::path& file) {
    std::error_code ec;
    const auto modified = fs::last_write_time(file, ec);
    if (ec) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    StaticFile out;
    out.body = std::move(bytes).str();
    const auto stamp = modified.time_since_epoch().count();
    std::ostringstream tag;
    tag << '"' << std::hex << out.body.size() << '-' << stamp << '"';
    out.etag = tag.str();
    out.contentType = std::string(staticContentType(file));
    return out;
}

bool etagMatches(std::string_view ifNoneMatch, std::string_view etag) {
    std::size_t pos = 0;
    while (pos < ifNoneMatch.size()) {
        auto comma = ifNoneMatch.find(',', pos);
        if (comma == std::string_view::npos) comma = ifNoneMatch.size();
        std::string_view item = ifNoneMatch.substr(pos, comma - pos);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.starts_with("W/")) item.remove_prefix(2);  // If-None-Match compares weakly
        if (item == "*" || item == etag) return true;
        pos = comma + 1;
    }
    return false;
}

std::string gzipText(std::string_view body) {
    std::ostringstream out;
    {
        Poco::DeflatingOutputStream deflater(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
        deflater.write(body.data(), static_cast<std::streamsize>(body.size()));
        deflater.close();
    }
    return std::move(out).str();
}

}  // namespace sensorsys::server
