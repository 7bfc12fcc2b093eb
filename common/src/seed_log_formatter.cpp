#include "sensorsys/common/seed_log_formatter.hpp"

#include <cstdio>
#include <ctime>
#include <utility>

#include <Poco/Timestamp.h>

namespace sensorsys {

const char* SeedLogFormatter::levelName(Poco::Message::Priority priority) {
    switch (priority) {
        case Poco::Message::PRIO_FATAL:
        case Poco::Message::PRIO_CRITICAL:
            return "CRITICAL";
        case Poco::Message::PRIO_ERROR:
            return "ERROR";
        case Poco::Message::PRIO_WARNING:
            return "WARNING";
        case Poco::Message::PRIO_NOTICE:
        case Poco::Message::PRIO_INFORMATION:
            return "INFO";
        case Poco::Message::PRIO_DEBUG:
        case Poco::Message::PRIO_TRACE:
            return "DEBUG";
    }
    return "INFO";
}

std::optional<Poco::Message::Priority> SeedLogFormatter::priorityOf(const std::string& level) {
    static constexpr std::pair<const char*, Poco::Message::Priority> kNames[] = {
        {"debug", Poco::Message::PRIO_DEBUG},
        {"info", Poco::Message::PRIO_INFORMATION},
        {"warning", Poco::Message::PRIO_WARNING},
        {"error", Poco::Message::PRIO_ERROR},
        {"critical", Poco::Message::PRIO_CRITICAL},
        {"trace", Poco::Message::PRIO_TRACE},
        {"notice", Poco::Message::PRIO_NOTICE},
        {"information", Poco::Message::PRIO_INFORMATION},
        {"fatal", Poco::Message::PRIO_FATAL},
    };
    for (const auto& [name, priority] : kNames) {
        if (level == name) return priority;
    }
    return std::nullopt;
}

void SeedLogFormatter::format(const Poco::Message& message, std::string& text) {
    const Poco::Timestamp& when = message.getTime();
    const std::time_t seconds = when.epochTime();
    std::tm tm{};
    localtime_r(&seconds, &tm);
    char stamp[32];
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    char millis[8];
    std::snprintf(millis, sizeof millis, ",%03d",
                  static_cast<int>((when.epochMicroseconds() / 1000) % 1000));
    text.append(stamp, n).append(millis).append(" - ").append(levelName(message.getPriority()));
    text.append(" - ").append(message.getText());
}

}  // namespace sensorsys
