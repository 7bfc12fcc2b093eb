// The dashboard's routes: its static files (http.www_dir, Chart.js from http.chartjs_path)
// and the admin-only token API that mirrors `sensorsys-server token`.
#include "api_service.hpp"
#include "body_decoding.hpp"
#include "json_answer.hpp"
#include "reading_validation.hpp"
#include "static_files.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/NumberParser.h>

namespace sensorsys::server {

namespace {

// Scripts only from this origin, no inline script or style, no framing: the page never needs
// more, so an injected string can never run.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

bool acceptsGzip(const Headers& headers) {
    const std::string* accept = findHeader(headers, "Accept-Encoding");
    if (!accept) return false;
    const auto at = accept->find("gzip");
    if (at == std::string::npos) return false;
    const std::string rest = accept->substr(at + 4, 8);
    return rest.rfind(";q=0", 0) != 0 || rest.rfind(";q=0.", 0) == 0;
}

std::string scopeText(const Poco::JSON::Object& body, const char* name, bool& wrongType) {
    if (!body.has(name) || body.get(name).isEmpty()) return "";
    const auto value = body.get(name);
    if (!value.isString()) {
        wrongType = true;
        return "";
    }
    return value.convert<std::string>();
}

std::optional<FieldProblem> tokenBodyProblem(const TokenQuery& token) {
    const auto scope = parseScope(token.scope);
    if (!scope) return FieldProblem{"scope", "must be \"device\", \"read\" or \"admin\""};
    if (*scope == Scope::Device) {
        if (token.deviceId.empty()) return FieldProblem{"device_id", "required for scope device"};
        if (auto p = deviceIdProblem(token.deviceId)) return FieldProblem{"device_id", *p};
    } else if (!token.deviceId.empty()) {
        return FieldProblem{"device_id", "only a device token has a device_id"};
    }
    return std::nullopt;
}

Poco::Dynamic::Var textOrNull(const std::string& text) {
    return text.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(text);
}

}  // namespace

void readStaticQuery(const RequestTarget& target, const Headers& headers, std::string_view,
                     const RequestLimits&, ApiRequest& req) {
    req.staticFile.path = target.path;
    if (const std::string* tag = findHeader(headers, "If-None-Match")) {
        req.staticFile.ifNoneMatch = *tag;
    }
    req.staticFile.gzip = acceptsGzip(headers);
}

void readTokenCreateBody(const RequestTarget&, const Headers& headers, std::string_view body,
                         const RequestLimits& limits, ApiRequest& req) {
    std::string text;
    if (auto e = decodeJsonBody(headers, body, limits, text)) {
        req.error = std::move(e);
        return;
    }
    Poco::JSON::Object::Ptr object;
    try {
        object = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        req.error = apiError(400, "malformed JSON", "the body must be a JSON object");
        return;
    }
    bool wrongType = false;
    req.token.scope = scopeText(*object, "scope", wrongType);
    req.token.deviceId = scopeText(*object, "device_id", wrongType);
    std::optional<FieldProblem> problem;
    if (wrongType) problem = FieldProblem{"(token)", "scope and device_id must be strings"};
    if (!problem) problem = tokenBodyProblem(req.token);
    if (problem) req.error = apiError(422, "invalid token request", problemsDetail({*problem}));
}

void readTokenId(const RequestTarget& target, const Headers&, std::string_view,
                 const RequestLimits&, ApiRequest& req) {
    const std::string* id = target.pathParam("id");
    Poco::Int64 value = 0;
    if (!id || !Poco::NumberParser::tryParse64(*id, value) || value <= 0) {
        req.error = apiError(404, "no such token", jsonObject({{"id", id ? *id : ""}}));
        return;
    }
    req.token.id = value;
}

ApiResponse ApiService::fileResponse(const std::filesystem::path& file, const ApiRequest& request,
                                     const char* cacheControl) {
    const auto loaded = loadStaticFile(file);
    if (!loaded) return errorResponse(apiError(404, "not found", request.staticFile.path));
    ApiResponse r;
    r.contentType = loaded->contentType;
    r.headers = {{"ETag", loaded->etag},
                 {"Cache-Control", cacheControl},
                 {"Content-Security-Policy", kContentSecurityPolicy},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"},
                 {"Vary", "Accept-Encoding"}};
    if (etagMatches(request.staticFile.ifNoneMatch, loaded->etag)) {
        r.status = 304;
        return r;
    }
    if (request.staticFile.gzip && compressibleType(r.contentType)) {
        r.body = gzipText(loaded->body);
        r.headers.emplace_back("Content-Encoding", "gzip");
    } else {
        r.body = loaded->body;
    }
    return r;
}

ApiResponse ApiService::staticFile(const ApiRequest& request) {
    const auto file = resolveStaticPath(_config.wwwDir, request.staticFile.path);
    if (!file) return errorResponse(apiError(404, "not found", request.staticFile.path));
    // The names carry no version: a browser asks again each time, and the ETag makes that a
    // 304 without a body.
    return fileResponse(*file, request, "no-cache");
}

ApiResponse ApiService::chartJs(const ApiRequest& request) {
    // Debian updates the library in place: revalidated daily.
    return fileResponse(_config.chartJsPath, request, "public, max-age=86400");
}

ApiResponse ApiService::dashboardSettings() {
    ApiResponse r;
    r.body = jsonText(jsonObject({{"auth_enabled", _config.authEnabled}}));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

ApiResponse ApiService::listTokens() {
    const auto records = _pool.run([](Connection& c) { return TokenStore(c.session()).list(); });
    Poco::JSON::Array::Ptr out = jsonArray();
    for (const auto& t : records) {
        if (!t.revokedAt.empty()) continue;
        out->add(jsonObject({{"id", t.id},
                             {"scope", scopeName(t.scope)},
                             {"device_id", textOrNull(t.deviceId)},
                             {"created", t.createdAt},
                             {"last_used", textOrNull(t.lastUsedAt)}}));
    }
    ApiResponse r;
    r.body = jsonText(out);
    return r;
}

ApiResponse ApiService::createToken(const ApiRequest& request) {
    const Scope scope = parseScope(request.token.scope).value_or(Scope::Read);
    const std::string token = _pool.run([&](Connection& c) {
        return TokenStore(c.session()).create(scope, request.token.deviceId);
    });
    ApiResponse r;
    r.status = 201;
    r.body = jsonText(jsonObject({{"id", *tokenId(token)},
                                  {"scope", scopeName(scope)},
                                  {"device_id", textOrNull(request.token.deviceId)},
                                  {"token", token}}));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

ApiResponse ApiService::revokeToken(const ApiRequest& request) {
    const bool revoked =
        _pool.run([&](Connection& c) { return TokenStore(c.session()).revoke(request.token.id); });
    if (!revoked) {
        return errorResponse(
            apiError(404, "no such token", jsonObject({{"id", request.token.id}})));
    }
    _auth.forgetAll();
    ApiResponse r;
    r.status = 204;
    return r;
}

}  // namespace sensorsys::server
