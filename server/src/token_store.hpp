// API tokens in sensor_project.api_tokens: created, listed, revoked by the `token` subcommand,
// looked up by the authenticator, managed through the admin API (GET/POST/DELETE /tokens). Only
// SHA-256 hashes are stored. Thread-safe per call.
#pragma once

#include <Poco/Data/Session.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sensorsys::server {

enum class Scope { Device, Read, Admin };
const char* scopeName(Scope scope);
std::optional<Scope> parseScope(const std::string& name);

struct TokenRecord {
    std::int64_t id = 0;
    std::string sha256Hex;
    Scope scope = Scope::Read;
    std::string deviceId;  // Scope::Device only
    std::string createdAt;
    std::string revokedAt;   // empty: active
    std::string lastUsedAt;  // empty: never (or not since migration V008)
};

// SHA-256 of text as lower-case hex.
std::string sha256Hex(const std::string& text);

// The token's id part ("sst_<id>_<secret>"), or nothing if it has not that shape.
std::optional<std::int64_t> tokenId(const std::string& token);

class TokenStore {
  public:
    explicit TokenStore(Poco::Data::Session& session) : _session(session) {}

    // Stores a new token and returns it in clear (the only time it exists in clear).
    std::string create(Scope scope, const std::string& deviceId);
    std::vector<TokenRecord> list();
    bool revoke(std::int64_t id);
    // The active (not revoked) token with this id.
    std::optional<TokenRecord> find(std::int64_t id);
    // Records that the token was used now.
    void touch(std::int64_t id);

  private:
    Poco::Data::Session& _session;
};

}  // namespace sensorsys::server
