// The disk plugin module: only the glue between the ABI and sensorsys_disk_lib.
#include <sensorsys/plugin_support.hpp>
#include "disk_usage.hpp"

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

}  // namespace

SENSORSYS_DEFINE_PLUGIN(DiskSensor, "disk", SENSORSYS_PLUGIN_VERSION,
                        "File-system usage of a path in MiB (total, used, free)",
                        sensorsys::disk::kConfigKeys)
