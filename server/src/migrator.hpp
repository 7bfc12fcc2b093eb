// Versioned schema migrations (sql/server/V<n>__<name>.sql, compiled in). Applying them is
// safe when several servers start at once: a PostgreSQL advisory lock serialises them, and
// each migration runs in its own transaction together with its bookkeeping row.
#pragma once

#include <Poco/Data/Session.h>
#include <sensorsys/common/sql_migrations.hpp>

#include <string>
#include <vector>

namespace sensorsys::server {

// The migrations built into this binary, by ascending version.
const std::vector<Migration>& embeddedMigrations();

// Applies the pending migrations; returns the versions applied now (empty: up to date).
std::vector<int> migrate(Poco::Data::Session& session,
                         const std::vector<Migration>& migrations = embeddedMigrations());

}  // namespace sensorsys::server
