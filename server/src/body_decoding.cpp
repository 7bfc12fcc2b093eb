#include "body_decoding.hpp"

#include <sensorsys/common/json_text.hpp>
#include "json_answer.hpp"

#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/MemoryStream.h>
#include <Poco/String.h>

namespace sensorsys::server {

namespace {

std::optional<ApiError> checkContentType(const Headers& headers) {
    const auto* ct = findHeader(headers, "Content-Type");
    if (!ct) return std::nullopt;
    std::string media = Poco::toLower(Poco::trim(ct->substr(0, ct->find(';'))));
    const bool json = media == "application/json" ||
                      (media.starts_with("application/") && media.ends_with("+json"));
    if (json) return std::nullopt;
    return apiError(
        415, "unsupported content type",
        jsonObject({{"header", "Content-Type"}, {"value", *ct}, {"allowed", "application/json"}}));
}

std::optional<ApiError> inflateGzip(std::string_view body, const RequestLimits& limits,
                                    std::string& decoded) {
    try {
        Poco::MemoryInputStream raw(body.data(), body.size());
        Poco::InflatingInputStream inflater(raw, Poco::InflatingStreamBuf::STREAM_GZIP);
        char buffer[16384];
        decoded.clear();
        while (inflater) {
            inflater.read(buffer, sizeof buffer);
            const auto got = inflater.gcount();
            if (got <= 0) break;
            if (static_cast<std::int64_t>(decoded.size()) + got > limits.maxBodyBytes) {
                return apiError(413, "body over the limit after gzip inflation",
                                jsonObject({{"limit_bytes", limits.maxBodyBytes}}));
            }
            decoded.append(buffer, static_cast<std::size_t>(got));
        }
        if (inflater.bad()) throw Poco::IOException("truncated gzip stream");
    } catch (const Poco::Exception& e) {
        return apiError(400, "body is not valid gzip", e.displayText());
    } catch (const std::exception& e) {
        return apiError(400, "body is not valid gzip", std::string(e.what()));
    }
    return std::nullopt;
}

// Content-Type and Content-Encoding checks, then gzip inflation.
std::optional<ApiError> decodeBody(const Headers& headers, std::string_view body,
                                   const RequestLimits& limits, std::string& decoded) {
    if (auto e = checkContentType(headers)) return e;
    std::string encoding;
    if (const auto* ce = findHeader(headers, "Content-Encoding"))
        encoding = Poco::toLower(Poco::trim(*ce));
    if (encoding.empty() || encoding == "identity") {
        decoded.assign(body);
        return std::nullopt;
    }
    if (encoding != "gzip" && encoding != "x-gzip") {
        return apiError(415, "unsupported content encoding",
                        jsonObject({{"header", "Content-Encoding"},
                                    {"value", encoding},
                                    {"allowed", jsonArray({"gzip", "identity"})}}));
    }
    return inflateGzip(body, limits, decoded);
}

}  // namespace

std::optional<ApiError> decodeJsonBody(const Headers& headers, std::string_view body,
                                       const RequestLimits& limits, std::string& text) {
    if (auto e = decodeBody(headers, body, limits, text)) return e;
    std::size_t bad = 0;
    if (!isValidUtf8(text, &bad))
        return apiError(400, "body is not valid UTF-8", jsonObject({{"offset", bad}}));
    return std::nullopt;
}

}  // namespace sensorsys::server
