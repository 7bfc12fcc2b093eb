// Formats log lines the way the seed's Python logging did, so existing log scrapers keep
// working: "2026-11-27 06:00:00,123 - INFO - message" (local time). Stateless. Used by the agent
// and the server alike, so one scraper reads both.
#pragma once

#include <Poco/Formatter.h>
#include <Poco/Message.h>

#include <optional>
#include <string>

namespace sensorsys {

class SeedLogFormatter : public Poco::Formatter {
  public:
    void format(const Poco::Message& message, std::string& text) override;

    // Python's level name for a Poco priority ("INFO", "WARNING", ...).
    static const char* levelName(Poco::Message::Priority priority);
    // Poco priority for a logging.level value: Python's debug|info|warning|error|critical, or
    // POCO's own names (trace, notice, information, fatal; older server configurations use
    // them). Nothing for any other text.
    static std::optional<Poco::Message::Priority> priorityOf(const std::string& level);
};

}  // namespace sensorsys
