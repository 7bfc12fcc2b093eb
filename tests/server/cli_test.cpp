// The sensorsys-server binary as an operator runs it: --migrate, token create/list/revoke,
// configuration errors, and serving until SIGTERM.
#include "pg_test_cluster.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <cstdlib>

namespace sensorsys::server::testing {
namespace {

struct Run {
    int code = -1;
    std::string out;
    std::string err;
};

Run run(const std::vector<std::string>& args) {
    Poco::Pipe outPipe, errPipe;
    Poco::ProcessHandle ph =
        Poco::Process::launch(SENSORSYS_SERVER_BINARY, args, nullptr, &outPipe, &errPipe);
    Poco::PipeInputStream out(outPipe), err(errPipe);
    Run r;
    Poco::StreamCopier::copyToString(out, r.out);
    Poco::StreamCopier::copyToString(err, r.err);
    r.code = ph.wait();
    return r;
}

class Cli : public ::testing::Test {
  protected:
    std::string define() const { return "--define=database.connection=" + db.connection(); }
    sensorsys::test::TemporaryDatabase db{SENSORSYS_PG_INFO_FILE};
};

TEST_F(Cli, MigrateAppliesOnceAndExitsZero) {
    auto r = run({"--migrate", define()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("applied"), std::string::npos);
    r = run({"--migrate", define()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("up to date"), std::string::npos);
}

TEST_F(Cli, MigrateGivesTheReadOnlyRoleTheHistoryViewsAndNothingElse) {
    ASSERT_EQ(run({"--migrate", define()}).code, 0);
    auto s = ConnectionPool::connect(db.connection(), 5);
    using namespace Poco::Data::Keywords;
    bool views = false, readings = true, login = true;
    s << "SELECT has_table_privilege('sensorsys_ro', 'sensor_project.measurements_1h', 'SELECT')"
         " AND has_table_privilege('sensorsys_ro', 'sensor_project.measurements', 'SELECT'),"
         " has_table_privilege('sensorsys_ro', 'sensor_project.readings', 'SELECT'),"
         " (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'sensorsys_ro')",
        into(views), into(readings), into(login), now;
    EXPECT_TRUE(views);
    EXPECT_FALSE(readings);
    EXPECT_FALSE(login);
}

TEST_F(Cli, TokenCreatePrintsTheTokenAloneThenListAndRevoke) {
    auto created = run({"token", "create", "--device", "pi-7", define()});
    ASSERT_EQ(created.code, 0) << created.err;
    ASSERT_EQ(created.out.size(), 6u + 43u + 1u) << created.out;
    EXPECT_EQ(created.out.rfind("sst_1_", 0), 0u) << created.out;
    EXPECT_EQ(created.out.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 6),
              created.out.size() - 1)
        << created.out;
    ASSERT_EQ(run({"token", "create", "--admin", define()}).code, 0);
    const auto list = run({"token", "list", define()});
    EXPECT_EQ(list.code, 0);
    EXPECT_NE(list.out.find("device\tpi-7"), std::string::npos) << list.out;
    EXPECT_EQ(list.out.find(created.out.substr(0, 20)), std::string::npos) << "clear token listed";
    EXPECT_EQ(run({"token", "revoke", "1", define()}).code, 0);
    EXPECT_NE(run({"token", "revoke", "1", define()}).code, 0);
    EXPECT_NE(run({"token", "create", "--read", "--admin", define()}).code, 0);
}

TEST_F(Cli, InvalidConfigurationNamesTheKeyAndExits78) {
    const auto r = run({"--define=http.port=eighty", define()});
    EXPECT_EQ(r.code, 78);
    EXPECT_NE(r.err.find("http.port"), std::string::npos) << r.err;
}

TEST_F(Cli, UnknownKeyExits78NamingItAndTheNearestKnownKey) {
    const auto r = run({"--define=limits.max_bach=1", define()});
    EXPECT_EQ(r.code, 78);
    EXPECT_NE(r.err.find("unknown key 'limits.max_bach' (nearest known key: limits.max_batch)"),
              std::string::npos)
        << r.err;
}

TEST(CliHelp, ListsEveryConfigurationKeyWithItsDefault) {
    const auto r = run({"--help"});
    EXPECT_EQ(r.code, 0) << r.err;
    for (const auto& key : configKeys().keys()) {
        EXPECT_NE(r.out.find(std::string(key.name) + " (default: "), std::string::npos) << key.name;
    }
}

TEST_F(Cli, DefineWinsOverTheConfigurationFile) {
    // docs/contract.md §8: --define key=value overrides the file, as the packaged service's
    // drop-ins and scripts rely on.
    const sensorsys::test::TempDir dir;
    sensorsys::test::writeFile(dir / "server.properties",
                               "database.connection = host=127.0.0.1 port=1 dbname=nowhere\n"
                               "http.port = eighty\n");
    const auto r = run({"--config", (dir / "server.properties").string(), "--migrate", define(),
                        "--define=http.port=8080"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("applied"), std::string::npos) << r.out;
}

TEST(CliVersion, PrintsTheVersionAndExitsZero) {
    const auto r = run({"--version"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("sensorsys-server ", 0), 0u) << r.out;
}

TEST_F(Cli, ServesUntilSigtermThenExitsZero) {
    Poco::Pipe errPipe;
    Poco::ProcessHandle ph = Poco::Process::launch(
        SENSORSYS_SERVER_BINARY, {define(), "--define=http.port=0", "--define=auth.enabled=false"},
        nullptr, nullptr, &errPipe);
    Poco::PipeInputStream err(errPipe);
    std::string line;
    int port = 0;
    const std::string marker = "listening on 127.0.0.1:";
    while (port == 0 && std::getline(err, line)) {
        const auto at = line.find(marker);
        if (at != std::string::npos) port = std::atoi(line.c_str() + at + marker.size());
    }
    ASSERT_GT(port, 0) << "no 'listening on' line";
    EXPECT_EQ(call(port, "GET", "/health").status, 200);
    // The request log line, in the seed's (and the agent's) format: time, level, then method,
    // path, status, duration, bytes.
    std::getline(err, line);
    const auto at = line.find(" - INFO - GET /health 200 ");
    ASSERT_NE(at, std::string::npos) << line;
    EXPECT_EQ(line.find(','), std::string("2026-11-27 06:00:00").size()) << line;
    EXPECT_NE(line.find("ms ", at), std::string::npos) << line;
    EXPECT_EQ(line.back(), 'B') << line;
    Poco::Process::requestTermination(ph.id());
    std::string rest;
    Poco::StreamCopier::copyToString(err, rest);
    EXPECT_EQ(ph.wait(), 0) << rest;
    EXPECT_NE(rest.find("stopped"), std::string::npos) << rest;
}

}  // namespace
}  // namespace sensorsys::server::testing
