#include "store/migrations.hpp"

#include <Poco/Data/Session.h>
#include <Poco/String.h>

#include <set>
#include <sstream>

namespace sensorsys::agent {

using namespace Poco::Data::Keywords;

namespace {

// Any constant shared by every sensorsys-agent ("sensagnt" in ASCII), distinct from the
// server's, so an agent and a server on one PostgreSQL never wait for each other.
constexpr Poco::Int64 kPostgresMigrationLock = 0x73656e7361676e74LL;

}  // namespace

std::vector<std::string> splitSqlStatements(const std::string& sql) {
    std::vector<std::string> out;
    std::istringstream in(sql);
    std::string line;
    std::string current;
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
    // The advisory lock serialises agents migrating one database at once; each migration runs
    // in its own transaction with its bookkeeping row, so a failure leaves the previous
    // version intact.
    std::vector<int> applied;
    Poco::Int64 key = kPostgresMigrationLock;
    int locked = 0;
    session << "SELECT 1 FROM pg_advisory_lock($1)", use(key), into(locked), now;
    try {
        session << "CREATE SCHEMA IF NOT EXISTS sensor_project", now;
        session << "CREATE TABLE IF NOT EXISTS sensor_project.agent_schema_migrations ("
                   " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                   " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            now;
        std::vector<int> done;
        session << "SELECT version FROM sensor_project.agent_schema_migrations", into(done), now;
        const std::set<int> doneSet(done.begin(), done.end());
        for (const auto& m : migrations) {
            if (doneSet.contains(m.version)) continue;
            session.begin();
            try {
                for (const auto& statement : splitSqlStatements(m.sql)) session << statement, now;
                int version = m.version;
                std::string name = m.name;
                session << "INSERT INTO sensor_project.agent_schema_migrations (version, name)"
                           " VALUES ($1, $2)",
                    use(version), use(name), now;
                session.commit();
            } catch (...) {
                try {
                    session.rollback();
                } catch (...) {
                    // broken connection: PostgreSQL rolls back with it
                }
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

}  // namespace sensorsys::agent
