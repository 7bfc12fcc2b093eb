// Makes time-ordered UUIDs (RFC 9562 version 7) for reading_id: 48 bits of Unix milliseconds,
// a 12-bit counter that keeps ids made in the same millisecond in order, and 62 random bits.
// Thread-safety: next() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace sensorsys {

// 16 bytes as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
std::string formatUuid(const std::uint8_t (&bytes)[16]);

// Sets the version (7) and RFC 4122 variant bits of 16 UUID bytes.
void markVersion7(std::uint8_t (&bytes)[16]);

class UuidV7Generator {
  public:
    UuidV7Generator();
    // Ids stay in order across a step of the clock back by up to `max_hold_back`; after a
    // larger step they follow the clock again (unique by their random bits), so an id's time
    // never lies further than that from the time it was made for.
    explicit UuidV7Generator(std::chrono::milliseconds max_hold_back);

    std::string next(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  private:
    std::mutex _mutex;
    std::mt19937_64 _random;
    std::uint64_t _lastMillis = 0;
    std::uint16_t _counter = 0;
    std::uint64_t _maxHoldBack = UINT64_MAX;
};

}  // namespace sensorsys
