// The sgp30 plugin module: binds the monitor to Linux i2c-dev, the machine's clocks and the
// plugin ABI.
#include <sensorsys/i2c_bus.hpp>
#include <sensorsys/linux_i2c_bus.hpp>
#include "clock.hpp"
#include "sgp30_monitor.hpp"

#include <sensorsys/plugin_support.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace {

using namespace sensorsys;

std::string busOf(const plugin::Config& config) {
    std::string bus = config.getString("bus");
    // A relative path would depend on the agent's working directory.
    if (bus.empty() || bus.front() != '/') {
        throw plugin::ConfigError(
            "key 'bus' must be the absolute path of an I2C bus device "
            "such as /dev/i2c-1, got \"" +
            bus + "\"");
    }
    return bus;
}

std::string baselineFileOf(const plugin::Config& config) {
    std::string file = config.getString("baseline_file");
    if (file.empty()) return file;
    const std::filesystem::path path(file);
    if (!path.is_absolute() || !path.has_filename()) {
        throw plugin::ConfigError(
            "key 'baseline_file' must be empty or an absolute file path, "
            "got \"" +
            file + "\"");
    }
    std::error_code error;
    if (!std::filesystem::is_directory(path.parent_path(), error)) {
        throw plugin::ConfigError("key 'baseline_file': folder " + path.parent_path().string() +
                                  " does not exist");
    }
    return file;
}

// One configured SGP30; its thread starts in create and stops in destroy.
// Thread-safety: read() from one thread at a time (plugin.h guarantees it per instance).
class Sgp30Sensor {
  public:
    explicit Sgp30Sensor(const plugin::Config& config)
        : _monitor(std::make_unique<i2c::LinuxI2cBus>(busOf(config)),
                   std::make_shared<sgp30::SystemClock>(), baselineFileOf(config)) {}

    std::string read() { return _monitor.read(); }

  private:
    sgp30::Sgp30Monitor _monitor;
};

constexpr sensorsys_config_key kKeys[] = {
    {"bus", "string", "/dev/i2c-1", "I2C bus device (the SGP30 answers at 0x58)"},
    {"baseline_file", "string", "",
     "where the calibration baseline is kept across restarts, e.g. "
     "/var/lib/sensorsys/sgp30-NAME.json (empty: not kept)"},
    {}};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(Sgp30Sensor, "sgp30", SENSORSYS_SGP30_VERSION,
                        "Sensirion SGP30 eCO2 and TVOC over Linux I2C, measured every second",
                        kKeys)
