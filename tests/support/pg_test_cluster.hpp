// Access to the throwaway PostgreSQL of a test run (tests/support/pg_cluster.sh), for any test
// area: a private database per test, or a private cluster a test may stop and start.
// Not thread-safe; one object per test.
#pragma once

#include <string>

namespace sensorsys::test {

// Superuser connection string of the cluster described by info file infoFile (written by
// `pg_cluster.sh start`). Throws std::runtime_error when the file is missing.
std::string clusterConnection(const std::string& infoFile);

// A database created for one test (unique name) and dropped when the object goes away.
class TemporaryDatabase {
  public:
    TemporaryDatabase(const std::string& infoFile, const std::string& prefix = "t");
    ~TemporaryDatabase();
    TemporaryDatabase(const TemporaryDatabase&) = delete;
    TemporaryDatabase& operator=(const TemporaryDatabase&) = delete;

    const std::string& name() const { return _name; }
    // libpq key=value string for this database (superuser; trust on 127.0.0.1).
    const std::string& connection() const { return _connection; }
    // Runs SQL (may hold several statements) with psql-free simple execution.
    void execute(const std::string& sql) const;

  private:
    std::string _admin;
    std::string _name;
    std::string _connection;
};

// A cluster of the test's own (for tests that take PostgreSQL away and bring it back).
class PrivateCluster {
  public:
    explicit PrivateCluster(const std::string& infoFile);  // starts it
    // A streaming replica (pg_basebackup -R) of the running primary, started.
    PrivateCluster(const std::string& infoFile, const PrivateCluster& primary);
    ~PrivateCluster();  // stops and deletes it
    PrivateCluster(const PrivateCluster&) = delete;
    PrivateCluster& operator=(const PrivateCluster&) = delete;

    const std::string& infoFile() const { return _info; }
    void pause();   // stop the server, keep data and port
    void resume();  // start it again

  private:
    void script(const std::string& command, const std::string& extra = "") const;
    std::string _info;
};

}  // namespace sensorsys::test
