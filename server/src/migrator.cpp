#include "migrator.h"

#include <Poco/String.h>

#include <set>
#include <sstream>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

namespace {
// Any constant shared by every sensorsys-server instance ("sensorsy" in ASCII).
constexpr Poco::Int64 kMigrationLockKey = 0x73656e736f727379LL;
}  // namespace

std::vector<std::string> splitSqlStatements(const std::string& sql) {
    std::vector<std::string> out;
    std::istringstream in(sql);
    std::string line, current;
    while (std::getline(in, line)) {
        const std::string trimmed = Poco::trim(line);
        if (trimmed.empty() || trimmed.starts_with("--")) continue;
        current += line;
        current += '\n';
        if (trimmed.ends_with(";")) {
            out.push_back(Poco::trim(current));
            current.clear();
        }
    }
    if (!Poco::trim(current).empty()) out.push_back(Poco::trim(current));
    return out;
}

std::vector<int> migrate(Poco::Data::Session& session, const std::vector<Migration>& migrations) {
    std::vector<int> applied;
    Poco::Int64 key = kMigrationLockKey;
    int locked = 0;
    session << "SELECT 1 FROM pg_advisory_lock($1)", use(key), into(locked), now;
    try {
        session << "CREATE SCHEMA IF NOT EXISTS sensor_project", now;
        session << "CREATE TABLE IF NOT EXISTS sensor_project.schema_migrations ("
                   " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                   " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            now;
        std::vector<int> done;
        session << "SELECT version FROM sensor_project.schema_migrations", into(done), now;
        const std::set<int> doneSet(done.begin(), done.end());
        for (const auto& m : migrations) {
            if (doneSet.count(m.version)) continue;
            session.begin();
            try {
                for (const auto& statement : splitSqlStatements(m.sql)) {
                    session << statement, now;
                }
                int version = m.version;
                std::string name = m.name;
                session << "INSERT INTO sensor_project.schema_migrations (version, name) VALUES "
                           "($1, $2)",
                    use(version), use(name), now;
                session.commit();
            } catch (...) {
                session.rollback();
                throw;
            }
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

}  // namespace sensorsys::server
