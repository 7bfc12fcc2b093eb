// The disk sensor's logic: configuration, statvfs and the seed-compatible arithmetic.
#pragma once

#include <sensorsys/plugin_support.hpp>

#include <sys/statvfs.h>

#include <cstdint>
#include <string>

namespace sensorsys::disk {

// Usage in whole MiB, signed because Python's arithmetic (which this reproduces) is.
struct Usage {
    std::int64_t totalMb = 0;
    std::int64_t usedMb = 0;
    std::int64_t freeMb = 0;

    friend bool operator==(const Usage&, const Usage&) = default;
};

// The keys an instance accepts, with their defaults (ended by a NULL name).
extern const sensorsys_config_key kConfigKeys[];

// An instance's validated configuration.
struct Settings {
    std::string path;

    // Key: path (absolute; default "/" from kConfigKeys). Throws plugin::ConfigError.
    static Settings fromConfig(const plugin::Config& config);
};

// The seed's numbers from statvfs fields: shutil.disk_usage (total = f_blocks * f_frsize,
// used = (f_blocks - f_bfree) * f_frsize, free = f_bavail * f_frsize), each then // 2**20.
Usage usageFromStatvfs(const struct statvfs& stats);

// statvfs(path) turned into Usage. Throws plugin::ReadError "statvfs <path>: ENOENT: ...".
Usage measure(const std::string& path);

// {"total_mb": N, "used_mb": N, "free_mb": N}
std::string formatUsage(const Usage& usage);

}  // namespace sensorsys::disk
