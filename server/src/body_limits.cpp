#include "body_limits.hpp"

#include <Poco/Exception.h>

#include <algorithm>

namespace sensorsys::server {

BodyRead readBody(std::istream& in, std::optional<std::int64_t> contentLength, std::int64_t limit,
                  std::string& out) {
    out.clear();
    if (contentLength && *contentLength > limit) return BodyRead::TooLarge;
    if (contentLength) out.reserve(static_cast<std::size_t>(*contentLength));
    char buffer[65536];
    try {
        while (true) {
            in.read(buffer, sizeof buffer);
            const std::streamsize got = in.gcount();
            if (got > 0) {
                if (static_cast<std::int64_t>(out.size()) + got > limit) return BodyRead::TooLarge;
                out.append(buffer, static_cast<std::size_t>(got));
            }
            if (!in) break;
        }
    } catch (const Poco::Exception&) {
        return BodyRead::Broken;
    } catch (const std::exception&) {
        return BodyRead::Broken;
    }
    if (in.bad()) return BodyRead::Broken;
    if (contentLength && static_cast<std::int64_t>(out.size()) != *contentLength)
        return BodyRead::Broken;
    return BodyRead::Complete;
}

}  // namespace sensorsys::server
