#include "sensorsys/common/sql_migrations.hpp"

#include <set>
#include <sstream>

#include <Poco/String.h>

namespace sensorsys {

using namespace Poco::Data::Keywords;

namespace {

// Whether a dollar-quoted body ($fn$ ... $fn$, as in a CREATE FUNCTION) is still open after
// line: its ';' line ends belong to the body, not to the statement list.
void trackDollarQuote(const std::string& line, std::string& openTag) {
    std::size_t pos = 0;
    while ((pos = line.find('$', pos)) != std::string::npos) {
        const std::size_t close = line.find('$', pos + 1);
        if (close == std::string::npos) return;
        const std::string tag = line.substr(pos, close - pos + 1);
        const bool isTag =
            tag.find_first_not_of("$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
            std::string::npos;
        if (!isTag) {
            pos = close;
            continue;
        }
        if (openTag.empty()) {
            openTag = tag;
        } else if (tag == openTag) {
            openTag.clear();
        }
        pos = close + 1;
    }
}

}  // namespace

std::vector<std::string> splitSqlStatements(const std::string& sql) {
    std::vector<std::string> out;
    std::istringstream in(sql);
    std::string line;
    std::string current;
    std::string openTag;
    while (std::getline(in, line)) {
        const std::string trimmed = Poco::trim(line);
        if (trimmed.empty() || (openTag.empty() && trimmed.starts_with("--"))) continue;
        current += line;
        current += '\n';
        trackDollarQuote(trimmed, openTag);
        if (openTag.empty() && trimmed.ends_with(";")) {
            out.push_back(Poco::trim(current));
            current.clear();
        }
    }
    if (!Poco::trim(current).empty()) out.push_back(Poco::trim(current));
    return out;
}

std::vector<int> migratePostgresql(Poco::Data::Session& session,
                                   const std::vector<Migration>& migrations,
                                   const PostgresMigrationTarget& target) {
    std::vector<int> applied;
    Poco::Int64 key = target.lockKey;
    int locked = 0;
    session << "SELECT 1 FROM pg_advisory_lock($1)", use(key), into(locked), now;
    try {
        session << "CREATE SCHEMA IF NOT EXISTS sensor_project", now;
        session << "CREATE TABLE IF NOT EXISTS " + target.versionTable +
                       " (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                       " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            now;
        std::vector<int> done;
        session << "SELECT version FROM " + target.versionTable, into(done), now;
        const std::set<int> done_set(done.begin(), done.end());
        for (const auto& m : migrations) {
            if (done_set.contains(m.version)) continue;
            inTransaction(session, [&] {
                for (const auto& statement : splitSqlStatements(m.sql)) session << statement, now;
                int version = m.version;
                std::string name = m.name;
                session << "INSERT INTO " + target.versionTable +
                               " (version, name) VALUES ($1, $2)",
                    use(version), use(name), now;
            });
            applied.push_back(m.version);
        }
    } catch (...) {
        try {
            session << "SELECT 1 FROM pg_advisory_unlock($1)", use(key), into(locked), now;
        } catch (...) {
            // the session is broken; PostgreSQL releases the lock with it
        }
        throw;
    }
    session << "SELECT 1 FROM pg_advisory_unlock($1)", use(key), into(locked), now;
    return applied;
}

}  // namespace sensorsys
