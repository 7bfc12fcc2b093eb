#include <sensorsys/common/seed_log_formatter.hpp>

#include <regex>

#include <gtest/gtest.h>

namespace sensorsys {
namespace {

TEST(SeedLogFormatter, WritesTheSeedsLineWithPythonsLevelNames) {
    SeedLogFormatter formatter;
    const std::pair<Poco::Message::Priority, const char*> cases[] = {
        {Poco::Message::PRIO_FATAL, "CRITICAL"}, {Poco::Message::PRIO_CRITICAL, "CRITICAL"},
        {Poco::Message::PRIO_ERROR, "ERROR"},    {Poco::Message::PRIO_WARNING, "WARNING"},
        {Poco::Message::PRIO_NOTICE, "INFO"},    {Poco::Message::PRIO_INFORMATION, "INFO"},
        {Poco::Message::PRIO_DEBUG, "DEBUG"},    {Poco::Message::PRIO_TRACE, "DEBUG"},
    };
    for (const auto& [priority, name] : cases) {
        std::string line;
        formatter.format(Poco::Message("test", "GET /health 200", priority), line);
        // Python logging's "%(asctime)s - %(levelname)s - %(message)s", milliseconds after a comma.
        const std::regex shape(R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - )" +
                               std::string(name) + " - GET /health 200");
        EXPECT_TRUE(std::regex_match(line, shape)) << line;
    }
}

TEST(SeedLogFormatter, LevelNamesOfTheAgentAndOfPocoAreKnownAndNothingElse) {
    EXPECT_EQ(SeedLogFormatter::priorityOf("debug"), Poco::Message::PRIO_DEBUG);
    EXPECT_EQ(SeedLogFormatter::priorityOf("info"), Poco::Message::PRIO_INFORMATION);
    EXPECT_EQ(SeedLogFormatter::priorityOf("warning"), Poco::Message::PRIO_WARNING);
    EXPECT_EQ(SeedLogFormatter::priorityOf("error"), Poco::Message::PRIO_ERROR);
    EXPECT_EQ(SeedLogFormatter::priorityOf("critical"), Poco::Message::PRIO_CRITICAL);
    EXPECT_EQ(SeedLogFormatter::priorityOf("information"), Poco::Message::PRIO_INFORMATION);
    EXPECT_EQ(SeedLogFormatter::priorityOf("trace"), Poco::Message::PRIO_TRACE);
    EXPECT_EQ(SeedLogFormatter::priorityOf("notice"), Poco::Message::PRIO_NOTICE);
    EXPECT_EQ(SeedLogFormatter::priorityOf("fatal"), Poco::Message::PRIO_FATAL);
    EXPECT_EQ(SeedLogFormatter::priorityOf("INFO"), std::nullopt);  // callers lower-case first
    EXPECT_EQ(SeedLogFormatter::priorityOf(""), std::nullopt);
    EXPECT_EQ(SeedLogFormatter::priorityOf("verbose"), std::nullopt);
}

}  // namespace
}  // namespace sensorsys
