#include "token_store.hpp"

#include <Poco/Data/Statement.h>
#include <Poco/DigestEngine.h>
#include <Poco/NumberParser.h>
#include <Poco/RandomStream.h>
#include <Poco/SHA2Engine.h>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

const char* scopeName(Scope scope) {
    switch (scope) {
        case Scope::Device:
            return "device";
        case Scope::Read:
            return "read";
        case Scope::Admin:
            return "admin";
    }
    return "read";
}

std::optional<Scope> parseScope(const std::string& name) {
    if (name == "device") return Scope::Device;
    if (name == "read") return Scope::Read;
    if (name == "admin") return Scope::Admin;
    return std::nullopt;
}

std::string sha256Hex(const std::string& text) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(text);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

std::optional<std::int64_t> tokenId(const std::string& token) {
    if (!token.starts_with("sst_")) return std::nullopt;
    const auto sep = token.find('_', 4);
    if (sep == std::string::npos || sep == 4 || sep - 4 > 18) return std::nullopt;
    Poco::Int64 id = 0;
    if (!Poco::NumberParser::tryParse64(token.substr(4, sep - 4), id) || id <= 0)
        return std::nullopt;
    return id;
}

namespace {

std::string randomSecret() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    Poco::RandomInputStream random;
    std::string secret;
    for (int i = 0; i < 43; ++i) {  // 43 x 6 bits = 258 bits
        char c = 0;
        random.get(c);
        secret.push_back(alphabet[static_cast<unsigned char>(c) & 63]);
    }
    return secret;
}

}  // namespace

std::string TokenStore::create(Scope scope, const std::string& deviceId) {
    Poco::Int64 id = 0;
    _session << "SELECT nextval('sensor_project.api_tokens_id_seq')", into(id), now;
    std::string token = "sst_" + std::to_string(id) + "_" + randomSecret();
    std::string hash = sha256Hex(token);
    std::string scopeText = scopeName(scope);
    std::string device = deviceId;
    _session << "INSERT INTO sensor_project.api_tokens (id, token_sha256, scope, device_id)"
                " VALUES ($1, $2, $3, NULLIF($4, ''))",
        use(id), use(hash), use(scopeText), use(device), now;
    return token;
}

std::vector<TokenRecord> TokenStore::list() {
    std::vector<Poco::Int64> ids;
    std::vector<std::string> hashes, scopes, devices, created, revoked, used;
    _session << "SELECT id, token_sha256, scope, COALESCE(device_id, ''),"
                " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                " COALESCE(to_char(revoked_at AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
                " COALESCE(to_char(last_used_at AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
                " FROM sensor_project.api_tokens ORDER BY id",
        into(ids), into(hashes), into(scopes), into(devices), into(created), into(revoked),
        into(used), now;
    std::vector<TokenRecord> out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        out.push_back({ids[i], hashes[i], parseScope(scopes[i]).value_or(Scope::Read), devices[i],
                       created[i], revoked[i], used[i]});
    }
    return out;
}

void TokenStore::touch(std::int64_t id) {
    Poco::Int64 key = id;
    _session << "UPDATE sensor_project.api_tokens SET last_used_at = now() WHERE id = $1", use(key),
        now;
}

bool TokenStore::revoke(std::int64_t id) {
    Poco::Int64 key = id;
    std::vector<Poco::Int64> changed;
    _session << "UPDATE sensor_project.api_tokens SET revoked_at = now()"
                " WHERE id = $1 AND revoked_at IS NULL RETURNING id",
        use(key), into(changed), now;
    return !changed.empty();
}

std::optional<TokenRecord> TokenStore::find(std::int64_t id) {
    Poco::Int64 key = id;
    std::vector<std::string> hashes, scopes, devices;
    _session << "SELECT token_sha256, scope, COALESCE(device_id, '') FROM sensor_project.api_tokens"
                " WHERE id = $1 AND revoked_at IS NULL",
        use(key), into(hashes), into(scopes), into(devices), now;
    if (hashes.empty()) return std::nullopt;
    TokenRecord r;
    r.id = id;
    r.sha256Hex = hashes[0];
    r.scope = parseScope(scopes[0]).value_or(Scope::Read);
    r.deviceId = devices[0];
    return r;
}

}  // namespace sensorsys::server
