#include "retention.hpp"

#include <sys/statvfs.h>

#include <Poco/Format.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace sensorsys::agent {

namespace {

Poco::Logger& logger() {
    return Poco::Logger::get("sensorsys.retention");
}

constexpr std::int64_t kMiB = 1024 * 1024;

std::int64_t ceilDiv(std::int64_t a, std::int64_t b) {
    return a <= 0 ? 0 : (a + b - 1) / b;
}

std::string span(const std::optional<std::string>& from, const std::optional<std::string>& to) {
    if (!from || !to) return "nothing kept";
    return "kept " + *from + " .. " + *to;
}

// How many synced and unsynced readings to delete to bring the disk back under the threshold.
struct DeletionPlan {
    std::int64_t synced = 0;
    std::int64_t unsynced = 0;
};

DeletionPlan planDeletion(const DiskUsage& disk, const StoreStats& stats,
                          const RetentionSettings& settings) {
    // How many readings to free `excess` bytes: the store's size over its row count estimates
    // one reading's share (index and page overhead included).
    const auto target = static_cast<std::int64_t>(static_cast<double>(disk.totalBytes) *
                                                  settings.diskThresholdPercent / 100.0);
    const std::int64_t excess = static_cast<std::int64_t>(disk.usedBytes) - target;
    const std::int64_t handled = stats.synced + stats.quarantined;
    const std::int64_t rows = handled + stats.unsynced;
    const std::int64_t bytesPerReading =
        std::max<std::int64_t>(1, rows ? stats.sizeBytes / rows : 1);
    const std::int64_t needed = ceilDiv(excess, bytesPerReading);

    DeletionPlan plan;
    plan.synced = std::min(needed, handled);
    const std::int64_t minStoreBytes = settings.minStoreMb * kMiB;
    const std::int64_t storeAfter = stats.sizeBytes - plan.synced * bytesPerReading;
    if (needed > plan.synced && plan.synced == handled && storeAfter > minStoreBytes) {
        // Data loss, but the store is the one filling the disk: cut the backlog evenly over
        // time, never below min_store_mb.
        plan.unsynced = std::min({needed - plan.synced, stats.unsynced,
                                  ceilDiv(storeAfter - minStoreBytes, bytesPerReading)});
    }
    return plan;
}

// Fills in what a delete did and logs it: an error when unsynced readings went (data loss).
void reportDeleted(const RetentionResult& result, double thresholdPercent,
                   RetentionReport& report) {
    report.outcome = RetentionReport::Outcome::Deleted;
    report.deletedSynced = result.deletedSynced;
    report.deletedUnsynced = result.deletedUnsynced;
    report.keptFromTsUtc = result.keptFromTsUtc;
    report.keptToTsUtc = result.keptToTsUtc;
    report.message = Poco::format(
        "Disk usage %.1f%% > %.1f%%: retention deleted %s synced and %s unsynced readings "
        "(stratified over time); %s",
        report.usedPercent, thresholdPercent, std::to_string(result.deletedSynced),
        std::to_string(result.deletedUnsynced), span(result.keptFromTsUtc, result.keptToTsUtc));
    if (report.compacted) report.message += "; store compacted";
    if (result.deletedUnsynced > 0) {
        logger().error(report.message + " - DATA LOSS: " + std::to_string(result.deletedUnsynced) +
                       " readings were never sent to the server");
    } else {
        logger().information(report.message);
    }
}

}  // namespace

double DiskUsage::usedPercent() const {
    return totalBytes == 0
               ? 0.0
               : 100.0 * static_cast<double>(usedBytes) / static_cast<double>(totalBytes);
}

DiskUsage StatvfsUsage::usage(const std::string& path) const {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
        throw std::system_error(errno, std::generic_category(), "statvfs " + path);
    }
    DiskUsage u;
    u.totalBytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
    u.usedBytes = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
    return u;
}

RetentionSettings RetentionSettings::from(const AgentSettings& settings) {
    RetentionSettings r;
    r.diskThresholdPercent = settings.retentionDiskThreshold;
    r.minStoreMb = settings.retentionMinStoreMb;
    return r;
}

Retention::Retention(RetentionSettings settings, ReadingStore& store, const FilesystemUsage& usage)
    : _settings(settings), _store(store), _usage(usage) {}

RetentionReport Retention::check() {
    try {
        return checkOrThrow();
    } catch (const std::exception& e) {
        RetentionReport report;
        report.outcome = RetentionReport::Outcome::Failed;
        report.message = std::string("Retention check failed: ") + e.what();
        logger().error(report.message);
        return report;
    }
}

bool Retention::compactIfStillOver(const std::string& path, std::int64_t store_bytes) {
    // Deleting every n-th reading leaves pages partly full, and only emptied pages go back to
    // the filesystem: the disk may still read over the threshold, and the next check would
    // delete again for space already given up. Rewriting the store returns all of it - when
    // the disk has room for the copy (twice the store, to be safe); otherwise the freed space
    // is reused by new readings and the next check decides again.
    const DiskUsage disk = _usage.usage(path);
    if (disk.usedPercent() <= _settings.diskThresholdPercent) return false;
    // The size before the delete bounds the copy (no second pass over the table to count it).
    const auto storeBytes = static_cast<std::uint64_t>(store_bytes);
    if (disk.totalBytes - disk.usedBytes < 2 * storeBytes) {
        logger().warning(Poco::format(
            "Retention: disk still %.1f%% full and no room to compact the store (%s MB)",
            disk.usedPercent(), std::to_string(storeBytes / kMiB)));
        return false;
    }
    _store.compact();
    return true;
}

RetentionReport Retention::checkOrThrow() {
    RetentionReport report;
    const std::string path = _store.filesystemPath();
    if (path.empty()) {
        // A PostgreSQL store on another host: its disk is that host's, managed by whoever runs
        // that server; measuring ours would delete readings to free space elsewhere.
        report.outcome = RetentionReport::Outcome::NotLocal;
        report.message = "Retention: the store is not on this machine; disk usage not checked";
        if (!_notLocalLogged) logger().information(report.message);
        _notLocalLogged = true;
        return report;
    }
    const DiskUsage disk = _usage.usage(path);
    report.usedPercent = disk.usedPercent();
    if (report.usedPercent <= _settings.diskThresholdPercent) {
        report.outcome = RetentionReport::Outcome::BelowThreshold;
        report.message = Poco::format("Disk usage %.1f%% (threshold %.1f%%)", report.usedPercent,
                                      _settings.diskThresholdPercent);
        logger().debug(report.message);
        return report;
    }

    const StoreStats stats = _store.stats();
    const DeletionPlan plan = planDeletion(disk, stats, _settings);
    const std::int64_t deleteSynced = plan.synced;
    const std::int64_t deleteUnsynced = plan.unsynced;

    if (deleteSynced + deleteUnsynced == 0) {
        report.outcome = RetentionReport::Outcome::NothingDeletable;
        report.message = Poco::format(
            "Disk usage %.1f%% > %.1f%%, but the store (%s MB, %s unsynced readings) is within "
            "retention.min_store_mb=%s: the backlog is kept",
            report.usedPercent, _settings.diskThresholdPercent,
            std::to_string(stats.sizeBytes / kMiB), std::to_string(stats.unsynced),
            std::to_string(_settings.minStoreMb));
        logger().warning(report.message);
        return report;
    }

    const RetentionResult result = _store.deleteStratified(deleteSynced, deleteUnsynced);
    report.compacted = compactIfStillOver(path, stats.sizeBytes);
    reportDeleted(result, _settings.diskThresholdPercent, report);
    return report;
}

}  // namespace sensorsys::agent
