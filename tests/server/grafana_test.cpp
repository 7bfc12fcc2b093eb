// The Grafana dashboard in packaging/grafana: every query, with Grafana's PostgreSQL macros
// expanded as Grafana does, runs against a real database holding data and answers rows with the
// `time` column Grafana's time series need, through the read-only role.
#include "connection_pool.hpp"
#include "migrator.hpp"
#include "pg_test_cluster.hpp"
#include "rollup_worker.hpp"
#include "test_partitions.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sensorsys::server {
namespace {

using namespace Poco::Data::Keywords;

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
        text.replace(pos, from.size(), to);
    return text;
}

// $__timeFilter(col), $__timeGroupAlias(col, interval), $__interval and $device as Grafana
// 10 writes them for a 7-day range, a 1 h interval and two selected devices.
std::string expandMacros(std::string sql) {
    sql = replaceAll(sql, "$__interval", "'1h'");
    for (std::size_t pos; (pos = sql.find("$__timeGroupAlias(")) != std::string::npos;) {
        const std::size_t open = pos + 18, comma = sql.find(',', open), close = sql.find(')', open);
        const std::string column = sql.substr(open, comma - open);
        sql.replace(pos, close + 1 - pos,
                    "floor(extract(epoch from " + column + ")/3600)*3600 AS \"time\"");
    }
    for (std::size_t pos; (pos = sql.find("$__timeFilter(")) != std::string::npos;) {
        const std::size_t open = pos + 14, close = sql.find(')', open);
        const std::string column = sql.substr(open, close - open);
        sql.replace(pos, close + 1 - pos,
                    column + " BETWEEN '2030-01-01T00:00:00Z' AND '2030-01-08T00:00:00Z'");
    }
    return replaceAll(sql, "$device", "'pi-a','pi-b'");
}

TEST(Grafana, EveryDashboardQueryRunsWithItsMacrosExpandedAndAnswersATimeColumn) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
    auto s = ConnectionPool::connect(db.connection(), 5);
    migrate(s);
    s << sensorsys::test::kTestPartitionsSql, now;
    std::ostringstream notes;
    ASSERT_TRUE(grantReadOnlyRole(s, notes)) << notes.str();
    s << "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload)"
         " SELECT d, t, t, jsonb_build_object('bme280', jsonb_build_object('temperature',"
         " jsonb_build_object('c', 20 + i % 5), 'humidity', jsonb_build_object('rh', 40),"
         " 'pressure', jsonb_build_object('hpa', 1013)), 'cpu_temp', jsonb_build_object('c', 50),"
         " 'disk', jsonb_build_object('used_mb', 8000 + i))"
         " FROM unnest(ARRAY['pi-a', 'pi-b']) d, generate_series(0, 2000) i,"
         " LATERAL (SELECT TIMESTAMPTZ '2030-01-02Z' + i * interval '1 minute' AS t) x",
        now;
    while (RollupWorker::refreshOnce(s) > 0) {
    }
    s << "SET ROLE sensorsys_ro", now;  // what the datasource logs in as

    std::ifstream in(std::string(SENSORSYS_SOURCE_DIR) +
                     "/packaging/grafana/sensorsys-dashboard.json");
    std::stringstream text;
    text << in.rdbuf();
    auto dashboard = Poco::JSON::Parser().parse(text.str()).extract<Poco::JSON::Object::Ptr>();
    const auto variable = dashboard->getObject("templating")->getArray("list")->getObject(0);
    Poco::Data::Statement devices(s);
    devices << variable->getValue<std::string>("query"), now;
    EXPECT_EQ(Poco::Data::RecordSet(devices).rowCount(), 2u);

    const auto panels = dashboard->getArray("panels");
    ASSERT_EQ(panels->size(), 5u);
    for (std::size_t p = 0; p < panels->size(); ++p) {
        const auto panel = panels->getObject(static_cast<unsigned>(p));
        SCOPED_TRACE(panel->getValue<std::string>("title"));
        const auto target = panel->getArray("targets")->getObject(0);
        Poco::Data::Statement query(s);
        query << expandMacros(target->getValue<std::string>("rawSql")), now;
        Poco::Data::RecordSet rows(query);
        ASSERT_GT(rows.columnCount(), 0u);
        EXPECT_EQ(rows.columnName(0), "time");
        EXPECT_GE(rows.rowCount(), 2u * 33);  // 2001 minutes: 34 hours per device
    }
}

}  // namespace
}  // namespace sensorsys::server
