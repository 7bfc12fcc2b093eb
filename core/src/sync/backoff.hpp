// Exponential backoff with full jitter (wait = uniform(0, min(cap, base * 2^attempt))), so a
// fleet of agents coming back after an outage does not hit the server in lockstep.
// Thread-safety: one owner at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace sensorsys::agent {

class Backoff {
  public:
    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
            std::uint64_t seed = std::random_device{}());

    // The wait before the next attempt; each call doubles the window up to the cap.
    std::chrono::milliseconds next();
    // After a success: the next failure starts from the base again.
    void reset() { _attempt = 0; }
    unsigned attempts() const { return _attempt; }
    std::chrono::milliseconds cap() const { return _cap; }

  private:
    std::chrono::milliseconds _base;
    std::chrono::milliseconds _cap;
    unsigned _attempt = 0;
    std::mt19937_64 _random;
};

}  // namespace sensorsys::agent
