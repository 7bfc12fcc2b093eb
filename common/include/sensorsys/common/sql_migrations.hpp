// Versioned schema migrations shared by the agent's store and the server: the migration
// record, splitting a migration file into statements, and applying them to PostgreSQL under
// an advisory lock (several processes may start at once). Stateless; a session is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

namespace sensorsys {

// One V<version>__<name>.sql file, compiled into the binary.
struct Migration {
    int version;
    const char* name;
    const char* sql;
};

// Splits a migration into statements (at a ';' ending a line outside a dollar-quoted body such
// as a function's $fn$ ... $fn$; "--" comment lines outside such bodies dropped):
// Poco prepares each statement, and a prepared statement holds one.
std::vector<std::string> splitSqlStatements(const std::string& sql);

// Which program migrates: its advisory lock key and its bookkeeping table (schema-qualified).
// Programs sharing a database use different keys so they never wait for each other.
struct PostgresMigrationTarget {
    std::int64_t lockKey;
    std::string versionTable;
};

// Applies the pending migrations, each in its own transaction with its bookkeeping row;
// returns the versions applied now (empty: up to date). Throws Poco::Exception on failure
// (the failing migration leaves nothing behind).
std::vector<int> migratePostgresql(Poco::Data::Session& session,
                                   const std::vector<Migration>& migrations,
                                   const PostgresMigrationTarget& target);

// Runs `work` in a transaction of `session`: committed when it returns, rolled back (as far
// as the connection still allows) when it throws, and the exception passed on.
template <class Work>
void inTransaction(Poco::Data::Session& session, Work&& work) {
    session.begin();
    try {
        work();
        session.commit();
    } catch (...) {
        try {
            session.rollback();
        } catch (...) {
            // a broken connection: the database rolls back by itself
        }
        throw;
    }
}

}  // namespace sensorsys
