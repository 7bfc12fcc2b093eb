// Bearer-token authentication: the token's id selects its row, the SHA-256 of the presented
// token is compared with the stored one in constant time. Verified tokens are cached briefly
// (auth.cache_seconds) so the hot path costs no round trip. A token's last use is written
// with a lookup, at most once a minute per token (kept in memory in between), never once per
// request.
// Thread-safe.
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
    // Drops every cached verification, so a token revoked through this instance is refused at
    // once.
    void forgetAll();

  private:
    // Whether the token's last use should be written now (the last write is over a minute
    // old); remembers that it is.
    bool useDue(std::int64_t id, std::chrono::steady_clock::time_point at);

    struct Cached {
        Principal principal;
        std::chrono::steady_clock::time_point expires;
    };
    ConnectionPool& _pool;
    const std::chrono::seconds _cacheFor;
    std::mutex _mutex;
    std::unordered_map<std::string, Cached> _cache;  // by SHA-256 of the token
    std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> _usedWritten;
};

// Constant-time comparison of two strings of the same length (false otherwise).
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace sensorsys::server
