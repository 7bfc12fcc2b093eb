// The contract tests' SQLite backend: a store file in a fresh temporary folder.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <string>

#include "store/sqlite_store.hpp"
#include "store_test_support.hpp"
#include "test_support.hpp"

namespace sensorsys::test {

using namespace Poco::Data::Keywords;

namespace {

class SqliteBackend final : public Backend {
  public:
    std::unique_ptr<agent::ReadingStore> open() override {
        return std::make_unique<agent::SqliteStore>(path());
    }

    void insertRows(int first, int n, bool synced) override {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session s("SQLite", path());
        s << "PRAGMA busy_timeout = 5000", now;
        s << "WITH RECURSIVE k(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM k WHERE i < ?)"
             " INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload, is_synced)"
             " SELECT printf('00000000-0000-7000-9000-%012d', i), 'pi-test',"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000Z', '2026-11-01', printf('+%d minutes', i)),"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', '2026-11-01', printf('+%d minutes', i)),"
             "  '{}', ? FROM k",
            bind(first), bind(first + n - 1), bind(synced ? 1 : 0), now;
        s << "ANALYZE", now;
    }

    std::vector<std::string> oldestUnsyncedPlan() override {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session s("SQLite", path());
        std::string query = agent::SqliteStore::kOldestUnsyncedQuery;
        query.replace(query.rfind('?'), 1, "360");
        query.replace(query.rfind('?'), 1, "0");
        std::vector<int> ids;
        std::vector<int> parents;
        std::vector<int> unused;
        std::vector<std::string> details;
        s << "EXPLAIN QUERY PLAN " + query, into(ids), into(parents), into(unused), into(details),
            now;
        return details;
    }

  private:
    std::string path() const { return (_dir / "buffer.db").string(); }
    TempDir _dir;
};

}  // namespace

std::unique_ptr<Backend> makeBackend() {
    return std::make_unique<SqliteBackend>();
}

}  // namespace sensorsys::test
