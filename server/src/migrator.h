// Versioned schema migrations (sql/server/V<n>__<name>.sql, compiled in). Applying them is
// safe when several servers start at once: a PostgreSQL advisory lock serialises them, and
// each migration runs in its own transaction together with its bookkeeping row.
#pragma once

#include <Poco/Data/Session.h>

#include <string>
#include <vector>

namespace sensorsys::server {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

// The migrations built into this binary, by ascending version.
const std::vector<Migration>& embeddedMigrations();

// Splits a migration into statements (at ';' ending a line; comments dropped).
std::vector<std::string> splitSqlStatements(const std::string& sql);

// Applies the pending migrations; returns the versions applied now (empty: up to date).
std::vector<int> migrate(Poco::Data::Session& session,
                         const std::vector<Migration>& migrations = embeddedMigrations());

}  // namespace sensorsys::server
