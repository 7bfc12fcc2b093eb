// Formats log lines the way the seed's Python logging did, so existing log scrapers keep
// working: "2026-11-27 06:00:00,123 - INFO - message" (local time). Stateless.
#pragma once

#include <Poco/Formatter.h>
#include <Poco/Message.h>

#include <string>

namespace sensorsys::agent {

class SeedLogFormatter : public Poco::Formatter {
  public:
    void format(const Poco::Message& message, std::string& text) override;

    // Python's level name for a Poco priority ("INFO", "WARNING", ...).
    static const char* levelName(Poco::Message::Priority priority);
    // Poco priority for a logging.level value (debug|info|warning|error|critical).
    static Poco::Message::Priority priorityOf(const std::string& level);
};

}  // namespace sensorsys::agent
