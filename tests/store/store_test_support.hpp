// What the store tests share: readings with known ids and times, and a Backend that gives the
// contract tests (store_contract_test.cpp) a fresh SQLite file or PostgreSQL database.
// Not thread-safe; one object per test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/reading_store.hpp"

namespace sensorsys::test {

// Reading number i: reading_id "00000000-0000-7000-8000-<i, 12 digits>", ts_utc
// 2026-11-27T00:00:00Z plus i minutes, ts_local the same instant at +01:00.
std::string readingId(int i);
std::string tsUtc(int i);
std::string tsLocal(int i);
agent::StoredReading reading(int i,
                             const std::string& payload = R"({"cpu_temp":{"c":48.30,"f":118.94}})");

// A clean store location of one backend; open() may be called again (reopen after close).
class Backend {
  public:
    virtual ~Backend() = default;
    virtual std::unique_ptr<agent::ReadingStore> open() = 0;
    // Inserts n readings directly with SQL (fast; ids unlike reading(i)'s), numbered from
    // `first`, synced or not, and refreshes the planner's statistics.
    virtual void insertRows(int first, int n, bool synced) = 0;
    // The plan of the store's oldest-unsynced query, one text line per plan row.
    virtual std::vector<std::string> oldestUnsyncedPlan() = 0;
};

// Defined by sqlite_backend.cpp or pg_backend.cpp.
std::unique_ptr<Backend> makeBackend();

std::string joined(const std::vector<std::string>& lines);

}  // namespace sensorsys::test
