// The PostgreSQL store module's entry point (see postgres_backend.hpp).
#include "store/postgres_backend.hpp"
#include "store/postgres_store.hpp"

namespace {

std::unique_ptr<sensorsys::agent::ReadingStore> openPostgresStore(const std::string& connection) {
    return std::make_unique<sensorsys::agent::PostgresStore>(connection);
}

constexpr sensorsys::agent::PostgresBackend kBackend{&openPostgresStore,
                                                     &sensorsys::agent::importSeedFromPostgres};

}  // namespace

// The C symbol the agent looks up by name, hence not camelBack.
extern "C" __attribute__((visibility("default"))) const sensorsys::agent::PostgresBackend*
sensorsys_postgres_backend() {  // NOLINT(readability-identifier-naming)
    return &kBackend;
}
