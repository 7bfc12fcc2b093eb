// The dashboard's static files (http.www_dir): which file a request path names, without ever
// leaving the root (no "..", no hidden names, no symlink pointing out of it, regular files
// only), its Content-Type and a validator for conditional requests. Stateless; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server {

// The regular file under root that requestPath ("/", "/index.html", "/js/app.js") names, as a
// canonical path inside the canonical root; nothing when the path is unsafe, the root or the
// file is missing, or the file is not a regular file. "/" names "index.html".
std::optional<std::filesystem::path> resolveStaticPath(const std::filesystem::path& root,
                                                       std::string_view requestPath);

// The Content-Type for a file name by its extension (application/octet-stream when unknown).
std::string_view staticContentType(const std::filesystem::path& file);

// Compressing this type pays off (text, JavaScript, JSON, SVG).
bool compressibleType(std::string_view contentType);

struct StaticFile {
    std::string body;
    std::string etag;  // strong validator from size and modification time, quoted
    std::string contentType;
};

// The file's bytes and validator; nothing when it cannot be read.
std::optional<StaticFile> loadStaticFile(const std::filesystem::path& file);

// The If-None-Match value matches etag ("*", a list, weak forms).
bool etagMatches(std::string_view ifNoneMatch, std::string_view etag);

// body compressed as gzip.
std::string gzipText(std::string_view body);

}  // namespace sensorsys::server
