// --import-seed against a real PostgreSQL holding the seed agent's layout: the unsynced rows
// move into the agent's store with reading_ids, a second import adds nothing, and the seed's
// rows are marked synced so a seed agent still running does not send them too.
#include <cstring>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "pg_test_cluster.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

class SeedImport : public ::testing::Test {
  protected:
    void SetUp() override {
        // One statement at a time: Poco prepares each text, and a prepared statement holds one.
        std::istringstream schema(
            readFile(std::string(SENSORSYS_TEST_DATA_DIR) + "/seed_agent_schema.sql"));
        std::string statement;
        while (std::getline(schema, statement, ';')) {
            if (statement.find_first_not_of(" \t\r\n") == std::string::npos) continue;
            try {
                db.execute(statement);
            } catch (const Poco::Exception& e) {
                FAIL() << e.displayText() << " in " << statement;
            }
        }
        // 5 synced and 7 unsynced rows, one a minute, as read_sensors.py leaves them.
        db.execute(
            "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload, is_synced) "
            "SELECT 'seed-pi', t, t, jsonb_build_object('disk', jsonb_build_object('free_mb', n)), "
            "n <= 5 FROM generate_series(1, 12) AS n, "
            "LATERAL (SELECT timestamptz '2026-11-01 00:00:00+00' + n * interval '1 minute') AS "
            "x(t)");
        writeFile(work / "agent.properties",
                  "store.path = " + (work / "buffer.db").string() + "\n");
    }

    ProcessResult agent(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{SENSORSYS_AGENT_BINARY, "--config",
                                      (work / "agent.properties").string(), "--define",
                                      "agent.status_file="};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }

    Poco::JSON::Object::Ptr status() const {
        const auto r = agent({"--status", "--json"});
        return Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    }

    TempDir work;
    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "seed"};
};

TEST_F(SeedImport, CopiesTheUnsyncedBacklogOnceAndMarksItSyncedInTheSeed) {
    const auto first = agent({"--import-seed", "--define", "import.connection=" + db.connection()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_THAT(first.out, ::testing::HasSubstr("imported 7 unsynced reading(s)"));
    EXPECT_THAT(first.out,
                ::testing::HasSubstr("2026-11-01T00:06:00.000000Z to 2026-11-01T00:12:00.000000Z"));
    EXPECT_EQ(status()->getValue<long long>("backlog"), 7);
    EXPECT_EQ(status()->getValue<std::string>("oldest_unsynced"), "2026-11-01T00:06:00.000000Z");

    const auto again = agent({"--import-seed", "--define", "import.connection=" + db.connection()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out, ::testing::HasSubstr("imported 0"));
    EXPECT_EQ(status()->getValue<long long>("backlog"), 7);
}

TEST_F(SeedImport, DbVariablesOfTheSeedNameTheSourceDatabase) {
    // The seed's .env next to the config file, as a Pi moving over has it.
    std::string host, port, name, user;
    for (const auto& part : {"host=", "port=", "dbname=", "user="}) {
        const auto text = db.connection();
        const auto at = text.find(part);
        ASSERT_NE(at, std::string::npos) << text;
        const auto end = text.find(' ', at);
        const auto value = text.substr(at + std::strlen(part), end == std::string::npos
                                                                   ? std::string::npos
                                                                   : end - at - std::strlen(part));
        (std::string(part) == "host="     ? host
         : std::string(part) == "port="   ? port
         : std::string(part) == "dbname=" ? name
                                          : user) = value;
    }
    writeFile(work / ".env", "DB_HOST=" + host + "\nDB_PORT=" + port + "\nDB_NAME=" + name +
                                 "\nDB_USER=" + user + "\n");
    const auto r = agent({"--import-seed"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(status()->getValue<long long>("backlog"), 7);
}

TEST_F(SeedImport, UnreachableSeedDatabaseIsNamedWithoutItsPassword) {
    const auto r =
        agent({"--import-seed", "--define",
               "import.connection=host=127.0.0.1 port=1 dbname=x user=y password=hunter2"});
    EXPECT_EQ(r.exit_code, 69);
    EXPECT_THAT(
        r.err, ::testing::HasSubstr("cannot import from the seed database (host=127.0.0.1 port=1"));
    EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr("hunter2")));
}

TEST_F(SeedImport, MissingSourceIsAConfigurationError) {
    const auto r = agent({"--import-seed"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, ::testing::HasSubstr("import.connection"));
}

}  // namespace
}  // namespace sensorsys::test
