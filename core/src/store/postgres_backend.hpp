// The PostgreSQL store lives in a module of its own (lib/sensorsys/store/postgresql.so), loaded
// only when the configuration asks for PostgreSQL (store.connector=postgresql, --import-seed):
// an agent on the default SQLite buffer never maps libpq and what it drags in (GnuTLS,
// Kerberos, LDAP: ~3.6 MiB of a ~19 MiB resident agent on a Pi).
// The module is built with this agent from the same sources and compiler, so C++ types cross
// the boundary; it is not a plugin interface. It is linked -z nodelete: once loaded it stays,
// so the functions and the stores it made outlive every handle.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <Poco/Logger.h>

#include "seed_import.hpp"
#include "store/reading_store.hpp"

namespace sensorsys::agent {

struct PostgresBackend {
    // A PostgresStore (see postgres_store.hpp).
    std::unique_ptr<ReadingStore> (*openStore)(const std::string& connection);
    // importSeedFromPostgres (see seed_import.hpp).
    ImportResult (*importSeed)(const std::string& seed_connection, ReadingStore& store,
                               Poco::Logger& logger);
};

// Where the agent looks for the module: beside the running executable at
// <bin>/../lib/sensorsys/store/postgresql.so (the installed layout and the build tree's).
std::filesystem::path postgresModulePath();

// Loads the module (once per process; later calls find it loaded). Throws std::runtime_error
// naming the file and the loader's reason when it is missing or broken.
PostgresBackend loadPostgresBackend();

}  // namespace sensorsys::agent

// The module's one exported symbol.
// NOLINTNEXTLINE(readability-identifier-naming): a C symbol the module exports by name.
extern "C" const sensorsys::agent::PostgresBackend* sensorsys_postgres_backend();
