// Time-ordered UUIDs (RFC 9562 version 7) for readings that arrive without a reading_id: the
// same kind the agent makes, and new index entries land next to each other instead of all
// over the reading_id index. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace sensorsys::server {

class UuidV7Generator {
  public:
    UuidV7Generator();
    // A version 7 UUID for the current time, canonical lower-case text.
    std::string next();
    // For tests: the UUID for a given Unix time in milliseconds.
    std::string at(std::int64_t unixMillis);

  private:
    std::mutex _mutex;
    std::mt19937_64 _random;
};

}  // namespace sensorsys::server
