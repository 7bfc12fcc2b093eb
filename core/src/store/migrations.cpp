#include "store/migrations.hpp"

#include <Poco/Data/Session.h>

#include <set>

namespace sensorsys::agent {

using namespace Poco::Data::Keywords;

namespace {

// Any constant shared by every sensorsys-agent ("sensagnt" in ASCII), distinct from the
// server's, so an agent and a server on one PostgreSQL never wait for each other.
constexpr Poco::Int64 kPostgresMigrationLock = 0x73656e7361676e74LL;

}  // namespace

std::vector<int> migrateSqlite(Poco::Data::Session& session,
                               const std::vector<Migration>& migrations) {
    // One IMMEDIATE transaction for the whole run: it takes the write lock first, so a second
    // process starting at the same time waits (busy_timeout) and then finds nothing to do.
    // SQLite's DDL is transactional, so a failing migration leaves nothing behind.
    std::vector<int> applied;
    session << "BEGIN IMMEDIATE", now;
    try {
        session << "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                   " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
            now;
        std::vector<int> done;
        session << "SELECT version FROM schema_migrations", into(done), now;
        const std::set<int> doneSet(done.begin(), done.end());
        for (const auto& m : migrations) {
            if (doneSet.contains(m.version)) continue;
            for (const auto& statement : splitSqlStatements(m.sql)) session << statement, now;
            int version = m.version;
            std::string name = m.name;
            session << "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", use(version),
                use(name), now;
            applied.push_back(m.version);
        }
        session << "COMMIT", now;
    } catch (...) {
        try {
            session << "ROLLBACK", now;
        } catch (...) {
            // the connection is broken; SQLite rolls back when it is closed
        }
        throw;
    }
    return applied;
}

std::vector<int> migratePostgresql(Poco::Data::Session& session,
                                   const std::vector<Migration>& migrations) {
    return sensorsys::migratePostgresql(
        session, migrations, {kPostgresMigrationLock, "sensor_project.agent_schema_migrations"});
}

}  // namespace sensorsys::agent
