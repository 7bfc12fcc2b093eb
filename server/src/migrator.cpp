#include "migrator.hpp"

namespace sensorsys::server {

namespace {
// Any constant shared by every sensorsys-server instance ("sensorsy" in ASCII).
constexpr Poco::Int64 kMigrationLockKey = 0x73656e736f727379LL;
}  // namespace

std::vector<int> migrate(Poco::Data::Session& session, const std::vector<Migration>& migrations) {
    return migratePostgresql(session, migrations,
                             {kMigrationLockKey, "sensor_project.schema_migrations"});
}

}  // namespace sensorsys::server
