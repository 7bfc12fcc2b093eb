#include "disk_usage.hpp"

#include <cerrno>

namespace sensorsys::disk {

namespace {

constexpr std::int64_t kMiB = 1024 * 1024;

// Python's // rounds towards negative infinity; C++'s / towards zero. They differ only for a
// negative "used", which a file system reporting more free than total blocks can produce.
std::int64_t floorDivide(std::int64_t value, std::int64_t divisor) {
    const std::int64_t quotient = value / divisor;
    return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

const sensorsys_config_key kConfigKeys[] = {
    {"path", "string", "/", "any path on the file system to measure"},
    {nullptr, nullptr, nullptr, nullptr}};

Settings Settings::fromConfig(const plugin::Config& config) {
    Settings settings;
    settings.path = config.getString("path");
    // The agent's working directory is nobody's business, so a relative path would be a guess.
    if (!settings.path.starts_with('/')) {
        throw plugin::ConfigError("key 'path' must be an absolute path, got '" + settings.path +
                                  "'");
    }
    return settings;
}

Usage usageFromStatvfs(const struct statvfs& stats) {
    // Widen before multiplying: on 32-bit Raspberry Pi OS the block counts are 32-bit and the
    // byte counts of any card above 4 GiB would wrap.
    const auto blocks = static_cast<std::int64_t>(stats.f_blocks);
    const auto freeBlocks = static_cast<std::int64_t>(stats.f_bfree);
    const auto availableBlocks = static_cast<std::int64_t>(stats.f_bavail);
    const auto fragment = static_cast<std::int64_t>(stats.f_frsize);
    return Usage{floorDivide(blocks * fragment, kMiB),
                 floorDivide((blocks - freeBlocks) * fragment, kMiB),
                 floorDivide(availableBlocks * fragment, kMiB)};
}

Usage measure(const std::string& path) {
    struct statvfs stats {};
    if (::statvfs(path.c_str(), &stats) != 0) {
        throw plugin::ReadError("statvfs " + path + ": " + plugin::errnoText(errno));
    }
    return usageFromStatvfs(stats);
}

std::string formatUsage(const Usage& usage) {
    return "{\"total_mb\": " + std::to_string(usage.totalMb) +
           ", \"used_mb\": " + std::to_string(usage.usedMb) +
           ", \"free_mb\": " + std::to_string(usage.freeMb) + "}";
}

}  // namespace sensorsys::disk
