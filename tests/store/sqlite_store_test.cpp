// SQLite-only behaviour of the store: durability across kill -9, the file's settings, space
// given back after retention, concurrent first opens, recovery when the file becomes usable.
#include <gtest/gtest.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Parser.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

#include "store/migrations.hpp"
#include "store/open_store.hpp"
#include "store/postgres_backend.hpp"
#include "store/sqlite_store.hpp"
#include "store_test_support.hpp"
#include "test_support.hpp"

namespace sensorsys::test {
namespace {

using namespace Poco::Data::Keywords;
namespace fs = std::filesystem;

Poco::Data::Session rawSession(const fs::path& path) {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s("SQLite", path.string());
    s << "PRAGMA busy_timeout = 5000", now;
    return s;
}

TEST(SqliteStore, FileIsWalWithIncrementalAutoVacuumAndVersioned) {
    TempDir dir;
    const auto path = dir / "sub" / "buffer.db";  // the folder is created too
    agent::SqliteStore store(path.string());
    store.add(reading(1));
    auto s = rawSession(path);
    std::string mode;
    int autoVacuum = -1;
    s << "PRAGMA journal_mode", into(mode), now;
    s << "PRAGMA auto_vacuum", into(autoVacuum), now;
    EXPECT_EQ(mode, "wal");
    EXPECT_EQ(autoVacuum, 2);  // incremental
    std::vector<int> versions;
    s << "SELECT version FROM schema_migrations ORDER BY version", into(versions), now;
    ASSERT_EQ(versions.size(), agent::sqliteMigrations().size());
    EXPECT_EQ(versions.back(), agent::sqliteMigrations().back().version);
    EXPECT_EQ(store.filesystemPath(), path.string());
}

TEST(SqliteStore, ExistingFileWithoutAutoVacuumIsConverted) {
    TempDir dir;
    const auto path = dir / "buffer.db";
    {
        auto s = rawSession(path);
        s << "CREATE TABLE unrelated (x INTEGER)", now;
    }
    agent::SqliteStore store(path.string());
    store.add(reading(1));
    auto s = rawSession(path);
    int autoVacuum = -1;
    s << "PRAGMA auto_vacuum", into(autoVacuum), now;
    EXPECT_EQ(autoVacuum, 2);
}

TEST(SqliteStore, EveryReadingReportedAddedSurvivesKill9) {
    TempDir dir;
    const auto path = (dir / "buffer.db").string();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child reports each reading once add() has returned, until it is killed.
        ::close(fds[0]);
        try {
            agent::SqliteStore store(path);
            for (int i = 0; i < 100000; ++i) {
                store.add(reading(i));
                if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(3);
            }
        } catch (...) {
            ::_exit(2);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    int last = -1;
    int received = 0;
    while (received < 150) {
        int i = 0;
        if (::read(fds[0], &i, sizeof i) != sizeof i) break;
        last = i;
        ++received;
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    ASSERT_EQ(received, 150) << "child stopped early, status " << status;
    ASSERT_TRUE(WIFSIGNALED(status));

    agent::SqliteStore store(path);
    const auto rows = store.oldestUnsynced(100000);
    std::set<std::string> present;
    for (const auto& r : rows) present.insert(r.readingId);
    for (int i = 0; i <= last; ++i) EXPECT_TRUE(present.contains(readingId(i))) << i;
}

TEST(SqliteStore, AStoredPayloadThatIsNotJsonDoesNotBlockTheBacklog) {
    // A damaged row (a bad sector, a hand edit) must not stop the batches around it from being
    // read: it goes out as it is stored, the server refuses it, and the sync quarantines it.
    TempDir dir;
    const auto path = (dir / "buffer.db").string();
    {
        agent::SqliteStore store(path);
        store.add(reading(1));
        store.add(reading(2));
    }
    {
        auto raw = rawSession(path);
        std::string id = readingId(1);
        raw << "UPDATE readings SET payload = '{\"t\": 21.' WHERE reading_id = ?", use(id), now;
    }
    agent::SqliteStore store(path);
    const auto rows = store.oldestUnsynced(10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].readingId, readingId(1));
    EXPECT_NE(rows[0].json.find(R"("payload":{"t": 21.})"), std::string::npos) << rows[0].json;
    EXPECT_NO_THROW(Poco::JSON::Parser().parse(rows[1].json));
}

TEST(SqliteStore, UnavailableWhileTheFileCannotBeOpenedThenRecovers) {
    TempDir dir;
    // The store's folder is taken by a plain file: nothing can be opened there (root too).
    const auto blocker = dir / "blocked";
    writeFile(blocker, "not a folder");
    const auto path = (blocker / "buffer.db").string();
    agent::SqliteStore store(path);
    try {
        store.add(reading(1));
        FAIL() << "add() succeeded without a database";
    } catch (const agent::StoreUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_THROW(store.oldestUnsynced(10), agent::StoreUnavailable);
    EXPECT_THROW(store.stats(), agent::StoreUnavailable);

    fs::remove(blocker);  // the disk is back: no restart needed
    store.add(reading(1));
    EXPECT_EQ(store.stats().unsynced, 1);
}

TEST(SqliteStore, RetentionGivesTheSpaceBackToTheFilesystem) {
    TempDir dir;
    const auto path = dir / "buffer.db";
    agent::SqliteStore store(path.string());
    {
        // Bulk rows in one transaction (one fsync instead of thousands).
        auto s = rawSession(path);
        s << "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 2999)"
             " INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload, is_synced)"
             " SELECT printf('00000000-0000-7000-8000-%012d', i), 'pi-test',"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000Z', '2026-11-27', printf('+%d minutes', i)),"
             "  strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', '2026-11-27', printf('+%d minutes', i)),"
             "  json_object('pad', printf('%.1000c', 'x')), 1 FROM k",
            now;
        s << "PRAGMA wal_checkpoint(TRUNCATE)", now;
    }
    const auto before = store.stats().sizeBytes;
    const auto result = store.deleteStratified(2500, 0);
    EXPECT_EQ(result.deletedSynced, 2500);
    const auto after = store.stats().sizeBytes;
    EXPECT_LT(after, before / 3) << before << " -> " << after;
    auto s = rawSession(path);
    int freePages = -1;
    s << "PRAGMA freelist_count", into(freePages), now;
    EXPECT_EQ(freePages, 0);
}

TEST(SqliteStore, ConcurrentFirstOpensMigrateOnce) {
    TempDir dir;
    const auto path = (dir / "buffer.db").string();
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            agent::SqliteStore store(path);
            store.add(reading(t));
            ok[t] = 1;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, std::vector<int>(4, 1));
    agent::SqliteStore store(path);
    EXPECT_EQ(store.stats().unsynced, 4);
    auto s = rawSession(dir / "buffer.db");
    int migrations = 0;
    s << "SELECT count(*) FROM schema_migrations", into(migrations), now;
    EXPECT_EQ(migrations, static_cast<int>(agent::sqliteMigrations().size()));
}

TEST(OpenStore, ChoosesTheConnector) {
    TempDir dir;
    agent::StoreSettings settings;
    settings.connector = "sqlite";
    settings.path = (dir / "buffer.db").string();
    auto store = agent::openStore(settings);
    store->add(reading(1));
    EXPECT_EQ(store->stats().unsynced, 1);
    settings.connector = "mysql";
    EXPECT_THROW(agent::openStore(settings), std::invalid_argument);
}

TEST(OpenStore, PostgresqlWithoutItsModuleNamesTheMissingFile) {
    // The module is looked for beside the running executable (bin/../lib/sensorsys/store); a
    // test binary has none there, like an installation missing the file.
    const auto expected = agent::postgresModulePath();
    ASSERT_FALSE(std::filesystem::exists(expected)) << expected;
    agent::StoreSettings settings;
    settings.connector = "postgresql";
    settings.connection = "host=127.0.0.1 port=1";
    try {
        agent::openStore(settings);
        FAIL() << "opened a PostgreSQL store without the module";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(expected.string() + " is missing"), std::string::npos)
            << e.what();
    }
}

TEST(Migrations, SplitterKeepsMultiLineStatements) {
    const auto parts = sensorsys::splitSqlStatements(
        "-- comment\nCREATE TABLE a (\n  x INT\n);\n\nINSERT INTO a VALUES (1);\n");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0], "CREATE TABLE a (\n  x INT\n);");
    EXPECT_EQ(parts[1], "INSERT INTO a VALUES (1);");
}

TEST(Migrations, SplitterKeepsADollarQuotedFunctionBodyWhole) {
    const auto parts = sensorsys::splitSqlStatements(
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\nBEGIN\n  -- kept\n"
        "  RETURN 1;\nEND $fn$;\nSELECT f();\n");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_NE(parts[0].find("RETURN 1;"), std::string::npos);
    EXPECT_EQ(parts[1], "SELECT f();");
}

}  // namespace
}  // namespace sensorsys::test
