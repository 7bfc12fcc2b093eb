// The store's versioned schema migrations: sql/agent/<dialect>/V<n>__<name>.sql, compiled into
// the binary (embed_agent_migrations.cmake), applied at start and recorded in a version table.
// Safe when several processes start at once (SQLite: one IMMEDIATE transaction; PostgreSQL:
// an advisory lock). Thread-safety: stateless; a session is used by one thread at a time.
#pragma once

#include <Poco/Data/Session.h>
#include <sensorsys/common/sql_migrations.hpp>

#include <string>
#include <vector>

namespace sensorsys::agent {

// The migrations built into this binary, by ascending version.
const std::vector<Migration>& sqliteMigrations();
const std::vector<Migration>& postgresqlMigrations();

// Apply the pending migrations; return the versions applied now (empty: already up to date).
// Throw Poco::Exception on failure (nothing of the failing migration stays applied).
std::vector<int> migrateSqlite(Poco::Data::Session& session,
                               const std::vector<Migration>& migrations = sqliteMigrations());
std::vector<int> migratePostgresql(
    Poco::Data::Session& session,
    const std::vector<Migration>& migrations = postgresqlMigrations());

}  // namespace sensorsys::agent
