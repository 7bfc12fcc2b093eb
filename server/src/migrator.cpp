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

const std::vector<std::string>& readOnlyRoleSql() {
    static const std::vector<std::string> lines{
        "CREATE ROLE sensorsys_ro NOLOGIN;",
        "GRANT USAGE ON SCHEMA sensor_project TO sensorsys_ro; GRANT SELECT ON "
        "sensor_project.measurements, sensor_project.measurements_1m, "
        "sensor_project.measurements_1h, sensor_project.measurements_1d TO sensorsys_ro;"};
    return lines;
}

bool grantReadOnlyRole(Poco::Data::Session& session, std::ostream& notes) {
    using namespace Poco::Data::Keywords;
    int exists = 0, mayCreate = 0;
    session << "SELECT count(*)::int4 FROM pg_roles WHERE rolname = 'sensorsys_ro'", into(exists),
        now;
    session << "SELECT (rolsuper OR rolcreaterole)::int4 FROM pg_roles WHERE rolname = "
               "current_user",
        into(mayCreate), now;
    try {
        if (exists == 0 && mayCreate == 0) throw std::runtime_error("may not create roles");
        if (exists == 0) session << "CREATE ROLE sensorsys_ro NOLOGIN", now;
        session << "GRANT USAGE ON SCHEMA sensor_project TO sensorsys_ro", now;
        session << "GRANT SELECT ON sensor_project.measurements, sensor_project.measurements_1m,"
                   " sensor_project.measurements_1h, sensor_project.measurements_1d TO "
                   "sensorsys_ro",
            now;
        return true;
    } catch (const std::exception&) {
        // Another server created the role meanwhile, or this user may not: say what to run.
        notes << "the read-only role sensorsys_ro was not set up; an administrator runs:\n";
        for (const auto& line : readOnlyRoleSql()) notes << "  " << line << "\n";
        return false;
    }
}

}  // namespace sensorsys::server
