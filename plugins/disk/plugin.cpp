// The disk plugin module: only the glue between the ABI and sensorsys_disk_lib.
#include <sensorsys/disk/disk_usage.hpp>
#include <sensorsys/plugin_support.hpp>

#include <string>

namespace {

// One configured disk instance: the usage of the file system holding one path.
// Thread-safety: immutable; statvfs is thread-safe, so concurrent reads would be fine too.
class DiskSensor {
  public:
    explicit DiskSensor(const sensorsys::plugin::Config& config)
        : _settings(sensorsys::disk::Settings::fromConfig(config)) {}

    std::string read() {
        return sensorsys::disk::formatUsage(sensorsys::disk::measure(_settings.path));
    }

  private:
    sensorsys::disk::Settings _settings;
};

constexpr sensorsys_config_key kKeys[] = {
    {"path", "string", "/", "any path on the file system to measure"}, {}};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(DiskSensor, "disk", SENSORSYS_PLUGIN_VERSION,
                        "File-system usage of a path in MiB (total, used, free)", kKeys)
