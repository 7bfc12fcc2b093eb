// Retention (docs/contract.md §4): when the filesystem holding the store is above
// retention.disk_threshold, delete just enough readings to get under it - synced (and
// quarantined) ones first, stratified over time; unsynced ones only when none of those are left
// AND the store itself is over retention.min_store_mb (something else filling the card must
// not cost the backlog), and never below that size. Counts and the kept time span are logged
// to "sensorsys.retention".
// Thread-safety: one check() at a time per object (the caller's retention timer); the store
// it uses is itself thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent_config.hpp"
#include "store/reading_store.hpp"

namespace sensorsys::agent {

// Figures of one filesystem, as Python's shutil.disk_usage gives them (docs/contract.md §3).
struct DiskUsage {
    std::uint64_t totalBytes = 0;  // f_blocks * f_frsize
    std::uint64_t usedBytes = 0;   // (f_blocks - f_bfree) * f_frsize
    double usedPercent() const;
};

// Measures the filesystem holding a path; tests inject a fake.
class FilesystemUsage {
  public:
    virtual ~FilesystemUsage() = default;
    // Throws std::system_error when the path cannot be measured.
    virtual DiskUsage usage(const std::string& path) const = 0;
};

// Production: statvfs(2). Stateless; safe from any thread.
class StatvfsUsage final : public FilesystemUsage {
  public:
    DiskUsage usage(const std::string& path) const override;
};

struct RetentionSettings {
    double diskThresholdPercent = 50;  // retention.disk_threshold
    std::int64_t minStoreMb = 64;      // retention.min_store_mb

    static RetentionSettings from(const AgentSettings& settings);
};

struct RetentionReport {
    enum class Outcome {
        NotLocal,          // the store is not on this machine (remote PostgreSQL): not measured
        BelowThreshold,    // nothing to do
        Deleted,           // readings were deleted
        NothingDeletable,  // above the threshold, but the store may not give anything up
        Failed             // the filesystem or the store could not be read (logged)
    };
    Outcome outcome = Outcome::Failed;
    double usedPercent = 0;  // before deleting
    std::int64_t deletedSynced = 0;
    std::int64_t deletedUnsynced = 0;
    std::optional<std::string> keptFromTsUtc;
    std::optional<std::string> keptToTsUtc;
    bool compacted = false;  // the store was rewritten to give the deleted rows' space back
    std::string message;     // what was logged
};

class Retention {
  public:
    // `store` and `usage` must outlive this object.
    Retention(RetentionSettings settings, ReadingStore& store, const FilesystemUsage& usage);

    // One check (the caller runs it every retention.check_interval). Never throws: failures
    // are logged and reported as Outcome::Failed.
    RetentionReport check();

  private:
    RetentionReport checkOrThrow();
    bool compactIfStillOver(const std::string& path, std::int64_t store_bytes);

    RetentionSettings _settings;
    ReadingStore& _store;
    const FilesystemUsage& _usage;
    bool _notLocalLogged = false;
};

}  // namespace sensorsys::agent
