// The contract tests' PostgreSQL backend: a fresh database in the suite's throwaway cluster.
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>

#include <string>

#include "pg_test_cluster.hpp"
#include "store/postgres_store.hpp"
#include "store_test_support.hpp"

namespace sensorsys::test {

using namespace Poco::Data::Keywords;

namespace {

class PgBackend final : public Backend {
  public:
    PgBackend() : _db(SENSORSYS_PG_INFO_FILE, "store") {}

    std::unique_ptr<agent::ReadingStore> open() override {
        return std::make_unique<agent::PostgresStore>(_db.connection());
    }

    void insertRows(int first, int n, bool synced) override {
        _db.execute(
            "INSERT INTO sensor_project.readings"
            " (reading_id, device_id, ts_utc, ts_local, payload, is_synced)"
            " SELECT gen_random_uuid(), 'pi-test',"
            "  timestamptz '2026-11-01 00:00Z' + make_interval(mins => i),"
            "  timestamptz '2026-11-01 00:00Z' + make_interval(mins => i), '{}', " +
            std::string(synced ? "TRUE" : "FALSE") + " FROM generate_series(" +
            std::to_string(first) + ", " + std::to_string(first + n - 1) + ") AS i");
        // Fresh statistics, as autovacuum would have them on a long-running store.
        _db.execute("ANALYZE sensor_project.readings");
    }

    std::vector<std::string> oldestUnsyncedPlan() override {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        Poco::Data::Session s("PostgreSQL", _db.connection());
        std::string query = agent::PostgresStore::kOldestUnsyncedQuery;
        query.replace(query.rfind("$2"), 2, "360");
        query.replace(query.rfind("$1"), 2, "0");
        std::vector<std::string> lines;
        s << "EXPLAIN " + query, into(lines), now;
        return lines;
    }

  private:
    TemporaryDatabase _db;
};

}  // namespace

std::unique_ptr<Backend> makeBackend() {
    return std::make_unique<PgBackend>();
}

}  // namespace sensorsys::test
