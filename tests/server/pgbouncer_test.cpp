// The server binary behind a real PgBouncer (docs/pgbouncer.md): session pooling serves
// ingest, reads and the live feed; transaction and statement pooling are refused at start with
// exit 78 before the database is touched. Each test runs its own PgBouncer on a free loopback
// port in front of the test cluster.
#include "pg_test_cluster.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <Poco/Net/HTTPClientSession.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace sensorsys::server::testing {
namespace {

using namespace std::chrono_literals;
using sensorsys::test::TemporaryDatabase;

constexpr const char* kPgBouncer = "/usr/sbin/pgbouncer";

// The port of a libpq connection string of the test cluster.
std::string portOf(const std::string& connection) {
    std::smatch m;
    if (!std::regex_search(connection, m, std::regex("port=(\\d+)"))) return "";
    return m[1];
}

// A PgBouncer of the test's own in pool mode `mode` in front of the cluster `database` lives in,
// trusting every client as the cluster does; stopped (SIGKILL) and its folder removed at the end.
class PgBouncer {
  public:
    PgBouncer(const std::string& mode, const TemporaryDatabase& database)
        : _port(sensorsys::test::freePort()), _database(database.name()) {
        sensorsys::test::writeFile(_dir / "userlist.txt", "\"postgres\" \"\"\n");
        sensorsys::test::writeFile(
            _dir / "pgbouncer.ini",
            "[databases]\n* = host=127.0.0.1 port=" + portOf(database.connection()) +
                "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " + std::to_string(_port) +
                "\nunix_socket_dir =\nauth_type = trust\nauth_file = " +
                (_dir / "userlist.txt").string() + "\npool_mode = " + mode +
                "\ndefault_pool_size = 20\nmax_client_conn = 200\n");
        std::vector<std::string> argv{kPgBouncer, (_dir / "pgbouncer.ini").string()};
        // PgBouncer refuses to run as root; -u drops to the cluster's user (no wrapper process
        // that would outlive a kill).
        if (::geteuid() == 0) argv.insert(argv.begin() + 1, {"-u", "postgres"});
        _process = std::make_unique<sensorsys::test::Background>(argv, _dir / "pgbouncer");
        _ready = sensorsys::test::eventually(
            [&] { return PQping(connection().c_str()) == PQPING_OK; }, 10s);
    }

    bool ready() const { return _ready; }
    std::string log() const { return _process->err(); }
    // The test database through this PgBouncer.
    std::string connection() const {
        return "host=127.0.0.1 port=" + std::to_string(_port) +
               " user=postgres dbname=" + _database;
    }

  private:
    sensorsys::test::TempDir _dir;
    int _port;
    std::string _database;
    std::unique_ptr<sensorsys::test::Background> _process;
    bool _ready = false;
};

std::vector<std::string> serverArgs(const std::string& connection, int port) {
    return {SENSORSYS_SERVER_BINARY, "--define=database.connection=" + connection,
            "--define=http.port=" + std::to_string(port), "--define=auth.enabled=false",
            // readingJson dates its readings in 2030
            "--define=limits.max_future=315360000"};
}

// The payload number n of the next reading on an event stream ("" at its end).
std::string nextReadingNumber(std::istream& stream) {
    std::string line;
    while (std::getline(stream, line)) {
        const auto at = line.find("\"n\": ");
        if (line.rfind("data: ", 0) == 0 && at != std::string::npos)
            return line.substr(at + 5, line.find_first_of(",}", at) - at - 5);
    }
    return "";
}

class ThroughPgBouncer : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(kPgBouncer))
            GTEST_SKIP() << kPgBouncer << " not installed (scripts/install-deps.sh installs it)";
    }

    TemporaryDatabase db{SENSORSYS_PG_INFO_FILE, "bouncer"};
    sensorsys::test::TempDir dir;
};

TEST_F(ThroughPgBouncer, SessionPoolingServesIngestReadsAndTheLiveFeed) {
    PgBouncer bouncer("session", db);
    ASSERT_TRUE(bouncer.ready()) << bouncer.log();
    const int port = sensorsys::test::freePort();
    auto server = sensorsys::test::startHealthyServer(serverArgs(bouncer.connection(), port),
                                                      dir / "server", port);
    ASSERT_TRUE(server->running()) << server->err();

    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request("GET", "/readings/stream", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    auto& stream = session.receiveResponse(response);
    ASSERT_EQ(response.getStatus(), 200);

    const auto created = call(port, "POST", "/readings", readingJson("pool-a", 1, uuidFor(1)));
    EXPECT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(nextReadingNumber(stream), "1");
    // A row written by someone else reaches the stream only through the change feed's LISTEN,
    // which goes through PgBouncer too.
    db.execute(
        "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, payload) VALUES "
        "('pool-a', '2030-01-01T10:02:00Z', '2030-01-01T10:02:00Z', '{\"n\": 2}')");
    EXPECT_EQ(nextReadingNumber(stream), "2");

    const auto range = call(
        port, "GET", "/readings?start_date=2030-01-01T00:00:00Z&end_date=2030-01-02T00:00:00Z");
    EXPECT_EQ(range.status, 200);
    EXPECT_NE(range.body.find("\"n\": 1"), std::string::npos) << range.body;
    EXPECT_NE(range.body.find("\"n\": 2"), std::string::npos) << range.body;
    const auto latest = call(port, "GET", "/readings/latest?device_id=pool-a");
    EXPECT_EQ(latest.status, 200);
    EXPECT_NE(latest.body.find("\"n\": 2"), std::string::npos) << latest.body;
    EXPECT_EQ(server->stop(SIGTERM, 10s), 0) << server->err();
}

// The refusal: exit 78 (EX_CONFIG), the mode and the fix named, and no migration applied.
void expectRefused(const std::string& mode, const TemporaryDatabase& db) {
    PgBouncer bouncer(mode, db);
    ASSERT_TRUE(bouncer.ready()) << bouncer.log();
    const auto r = sensorsys::test::run(
        serverArgs(bouncer.connection(), sensorsys::test::freePort()), {}, 30s);
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find("database.connection goes through a connection pooler in " + mode +
                         " pooling mode (PgBouncer pool_mode=" + mode),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("use pool_mode=session"), std::string::npos) << r.err;
    // Refused before the database was touched: migrations would run on any server connection.
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(db.connection().c_str()), &PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> schema(
        PQexec(c.get(), "SELECT to_regclass('sensor_project.schema_migrations') IS NULL"),
        &PQclear);
    ASSERT_EQ(PQresultStatus(schema.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_STREQ(PQgetvalue(schema.get(), 0, 0), "t");
}

TEST_F(ThroughPgBouncer, TransactionPoolingIsRefusedAtStartWithExit78NamingTheMode) {
    expectRefused("transaction", db);
}

TEST_F(ThroughPgBouncer, StatementPoolingIsRefusedAtStartWithExit78NamingTheMode) {
    expectRefused("statement", db);
}

// The replica's pool runs the same prepared statements: a read connection through transaction
// pooling is refused too, naming its key.
TEST_F(ThroughPgBouncer, AReadConnectionThroughTransactionPoolingIsRefusedNamingItsKey) {
    PgBouncer bouncer("transaction", db);
    ASSERT_TRUE(bouncer.ready()) << bouncer.log();
    auto args = serverArgs(db.connection(), sensorsys::test::freePort());
    args.push_back("--define=database.read_connection=" + bouncer.connection());
    const auto r = sensorsys::test::run(args, {}, 30s);
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find("database.read_connection goes through a connection pooler in "
                         "transaction pooling mode"),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace sensorsys::server::testing
