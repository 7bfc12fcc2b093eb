// Bearer-token authentication: the token's id selects its row, the SHA-256 of the presented
// token is compared with the stored one in constant time. Verified tokens are cached briefly
// (auth.cache_seconds) so the hot path costs no round trip. Thread-safe.
#pragma once

#include "connection_pool.hpp"
#include "token_store.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sensorsys::server {

struct Principal {
    Scope scope = Scope::Read;
    std::string deviceId;  // Scope::Device: the only device it may write
};

class Authenticator {
  public:
    Authenticator(ConnectionPool& pool, std::chrono::seconds cacheFor)
        : _pool(pool), _cacheFor(cacheFor) {}

    // The principal of an active token, nothing for an unknown, malformed or revoked one.
    // Throws DatabaseUnavailable / PoolTimeout when the database cannot answer.
    std::optional<Principal> authenticate(const std::string& token);

  private:
    struct Cached {
        Principal principal;
        std::chrono::steady_clock::time_point expires;
    };
    ConnectionPool& _pool;
    const std::chrono::seconds _cacheFor;
    std::mutex _mutex;
    std::unordered_map<std::string, Cached> _cache;  // by SHA-256 of the token
};

// Constant-time comparison of two strings of the same length (false otherwise).
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace sensorsys::server
