#include "auth.hpp"

#include <Poco/Exception.h>

namespace sensorsys::server {

bool constantTimeEquals(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

std::optional<Principal> Authenticator::authenticate(const std::string& token) {
    const auto id = tokenId(token);
    if (!id || token.size() > 200) return std::nullopt;
    const std::string hash = sha256Hex(token);
    const auto nowTime = std::chrono::steady_clock::now();
    if (_cacheFor.count() > 0) {
        std::lock_guard lock(_mutex);
        auto it = _cache.find(hash);
        if (it != _cache.end()) {
            if (it->second.expires > nowTime) return it->second.principal;
            _cache.erase(it);
        }
    }
    // The last use is written with the lookup, on its connection: a cached verification never
    // waits for the database.
    auto record = _pool.run([&](Connection& c) {
        TokenStore store(c.session());
        auto found = store.find(*id);
        if (found && constantTimeEquals(found->sha256Hex, hash) && useDue(*id, nowTime)) {
            try {
                store.touch(*id);
            } catch (const Poco::Exception&) {
                // Only the record is lost (a schema before V008): authentication stands.
            }
        }
        return found;
    });
    if (!record || !constantTimeEquals(record->sha256Hex, hash)) return std::nullopt;
    Principal p{record->scope, record->deviceId};
    if (_cacheFor.count() > 0) {
        std::lock_guard lock(_mutex);
        if (_cache.size() > 10000) _cache.clear();
        _cache[hash] = Cached{p, nowTime + _cacheFor};
    }
    return p;
}

void Authenticator::forgetAll() {
    std::lock_guard lock(_mutex);
    _cache.clear();
}

bool Authenticator::useDue(std::int64_t id, std::chrono::steady_clock::time_point at) {
    constexpr auto kEvery = std::chrono::minutes(1);
    std::lock_guard lock(_mutex);
    if (_usedWritten.size() > 10000) _usedWritten.clear();
    auto [it, added] = _usedWritten.try_emplace(id, at);
    if (added) return true;
    if (at - it->second < kEvery) return false;
    it->second = at;
    return true;
}

}  // namespace sensorsys::server
