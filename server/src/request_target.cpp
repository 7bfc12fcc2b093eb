#include "request_target.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <cctype>

namespace sensorsys::server {

const std::string* RequestTarget::param(std::string_view name) const {
    for (const auto& [key, value] : query) {
        if (key == name) return &value;
    }
    return nullptr;
}

const std::string* RequestTarget::pathParam(std::string_view name) const {
    for (const auto& [key, value] : pathParams) {
        if (key == name) return &value;
    }
    return nullptr;
}

const std::string* RequestTarget::repeated() const {
    for (std::size_t i = 0; i < query.size(); ++i) {
        for (std::size_t j = i + 1; j < query.size(); ++j) {
            if (query[i].first == query[j].first) return &query[i].first;
        }
    }
    return nullptr;
}

std::optional<RequestTarget> parseTarget(std::string_view target) {
    RequestTarget t;
    const auto q = target.find('?');
    try {
        // Only the path goes through decode(): a whole-URI parse would read "//x" as an
        // authority and "http://..." as absolute-form, which this API answers 400/404.
        Poco::URI::decode(std::string(target.substr(0, q)), t.path);
        if (q == std::string_view::npos) return t;
        std::string_view rest = target.substr(q + 1);
        rest = rest.substr(0, rest.find('#'));
        Poco::URI uri;
        uri.setRawQuery(std::string(rest));
        for (auto& [key, value] : uri.getQueryParameters()) {
            // Poco keeps the empty parts of "a=1&&b=2" as ("", ""); no parameter has that name.
            if (!key.empty() || !value.empty())
                t.query.emplace_back(std::move(key), std::move(value));
        }
    } catch (const Poco::SyntaxException&) {
        return std::nullopt;
    }
    return t;
}

std::string encodeQueryValue(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

}  // namespace sensorsys::server
