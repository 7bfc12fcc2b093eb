// Versioned schema migrations (sql/server/V<n>__<name>.sql, compiled in). Applying them is
// safe when several servers start at once: a PostgreSQL advisory lock serialises them, and
// each migration runs in its own transaction together with its bookkeeping row.
#pragma once

#include <Poco/Data/Session.h>
#include <sensorsys/common/sql_migrations.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace sensorsys::server {

// The migrations built into this binary, by ascending version.
const std::vector<Migration>& embeddedMigrations();

// Applies the pending migrations; returns the versions applied now (empty: up to date).
std::vector<int> migrate(Poco::Data::Session& session,
                         const std::vector<Migration>& migrations = embeddedMigrations());

// The SQL giving the read-only role sensorsys_ro (NOLOGIN) SELECT on the history views: the
// CREATE ROLE line and the GRANT line.
const std::vector<std::string>& readOnlyRoleSql();

// Creates sensorsys_ro (if missing) and grants it the views when the connecting user may;
// otherwise writes to notes the two lines an administrator runs. Returns whether it was done.
bool grantReadOnlyRole(Poco::Data::Session& session, std::ostream& notes);

}  // namespace sensorsys::server
