// Reading a request body with a size limit enforced while reading (Content-Length or chunked),
// so an oversized body never sits in memory. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

namespace sensorsys::server {

enum class BodyRead {
    Complete,  // out holds the whole body
    TooLarge,  // the body (or its announced length) is over the limit; it was not read to its end
    Broken,    // the stream failed before its end (client went away, bad chunk framing)
};

// contentLength: the announced length, if any. Reads at most limit + 1 bytes.
BodyRead readBody(std::istream& in, std::optional<std::int64_t> contentLength, std::int64_t limit,
                  std::string& out);

}  // namespace sensorsys::server
