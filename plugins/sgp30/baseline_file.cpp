#include "baseline_file.hpp"

#include <sensorsys/unique_fd.hpp>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sensorsys::sgp30 {
namespace {

using Wall = Clock::Wall;

Poco::Timestamp toPoco(Wall::time_point time) {
    return Poco::Timestamp(
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

std::optional<std::uint16_t> word(const Poco::JSON::Object& object, const std::string& key) {
    const Poco::Dynamic::Var value = object.get(key);
    if (!value.isInteger()) return std::nullopt;
    const auto number = value.convert<std::int64_t>();
    if (number < 0 || number > 0xFFFF) return std::nullopt;
    return static_cast<std::uint16_t>(number);
}

std::optional<Wall::time_point> savedAt(const Poco::JSON::Object& object) {
    const Poco::Dynamic::Var value = object.get("saved");
    if (!value.isString()) return std::nullopt;
    Poco::DateTime parsed;
    int zone = 0;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT,
                                        value.extract<std::string>(), parsed, zone)) {
        return std::nullopt;
    }
    parsed.makeUTC(zone);
    // The wall clock counts nanoseconds in 64 bits (years 1678-2262): a date outside 1970-2200
    // is no real save time and would overflow the conversion.
    constexpr std::int64_t kYear2200Micros = 7'258'118'400'000'000;
    const std::int64_t micros = parsed.timestamp().epochMicroseconds();
    if (micros < 0 || micros > kYear2200Micros) return std::nullopt;
    return Wall::time_point(std::chrono::microseconds(micros));
}

void writeAll(const std::string& path, const std::string& text) {
    const auto fail = [&](const char* step) {
        throw plugin::ReadError("cannot save the SGP30 baseline to " + path + " (" + step +
                                "): " + plugin::errnoText(errno));
    };
    const std::string temporary = path + ".tmp";
    plugin::UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) fail("open");
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t written = ::write(fd.get(), text.data() + done, text.size() - done);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) fail("write");
        done += static_cast<std::size_t>(written);
    }
    if (::fsync(fd.get()) != 0) fail("fsync");
    fd.reset();
    if (std::rename(temporary.c_str(), path.c_str()) != 0) fail("rename");
}

}  // namespace

std::string rfc3339(Wall::time_point time) {
    return Poco::DateTimeFormatter::format(toPoco(time), "%Y-%m-%dT%H:%M:%SZ");
}

std::optional<Baseline> loadBaseline(const std::string& path, Wall::time_point now) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    try {
        const auto object =
            Poco::JSON::Parser().parse(text.str()).extract<Poco::JSON::Object::Ptr>();
        const auto eco2 = word(*object, "eco2");
        const auto tvoc = word(*object, "tvoc");
        const auto saved = savedAt(*object);
        if (!eco2 || !tvoc || !saved) return std::nullopt;
        const auto age = now - *saved;
        if (age < Wall::duration::zero() || age >= kBaselineMaxAge) return std::nullopt;
        return Baseline{*eco2, *tvoc};
    } catch (const Poco::Exception&) {
        return std::nullopt;  // corrupt: start without a baseline, as on a first start
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void saveBaseline(const std::string& path, const Baseline& baseline, Wall::time_point now) {
    writeAll(path, "{\"eco2\": " + std::to_string(baseline.eco2) + ", \"tvoc\": " +
                       std::to_string(baseline.tvoc) + ", \"saved\": \"" + rfc3339(now) + "\"}\n");
}

}  // namespace sensorsys::sgp30
