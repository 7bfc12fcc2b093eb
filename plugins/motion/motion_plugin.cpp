// The motion plugin module: binds the watcher to libgpiod and to the plugin ABI.
#include "libgpiod_line.hpp"
#include "motion_watcher.hpp"

#include <sensorsys/plugin_support.hpp>

#include <memory>
#include <string>

namespace {

using namespace sensorsys;

// The GPIO character device's limit on line offsets per chip is far below this; the bound only
// keeps the number in an unsigned.
constexpr std::int64_t kMaxLine = 65535;

std::string chipOf(const plugin::Config& config) {
    std::string chip = config.getString("chip");
    if (chip.empty()) {
        throw plugin::ConfigError(
            "key 'chip' must name a GPIO chip (gpiochip0, or a /dev/gpiochipN path)");
    }
    return chip;
}

unsigned lineOf(const plugin::Config& config) {
    if (!config.has("line")) {
        throw plugin::ConfigError(
            "key 'line' is required: the offset of the GPIO line the PIR "
            "output is wired to, e.g. 17");
    }
    const std::int64_t line = config.getInt("line");
    if (line < 0 || line > kMaxLine) {
        throw plugin::ConfigError("key 'line' must be a line offset from 0 to " +
                                  std::to_string(kMaxLine) + ", got " + std::to_string(line));
    }
    return static_cast<unsigned>(line);
}

// One configured PIR sensor; its thread starts in create and stops in destroy.
// Thread-safety: read() from one thread at a time (plugin.h guarantees it per instance).
class MotionSensor {
  public:
    explicit MotionSensor(const plugin::Config& config)
        : _watcher(std::make_unique<motion::LibgpiodLine>(chipOf(config), lineOf(config))) {}

    std::string read() { return _watcher.read(); }

  private:
    motion::MotionWatcher _watcher;
};

constexpr sensorsys_config_key kKeys[] = {
    {"chip", "string", "gpiochip0", "GPIO chip: a name such as gpiochip0 or a /dev/gpiochipN path"},
    {"line", "integer", "", "required: offset of the line the PIR output drives, e.g. 17"},
    {}};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(MotionSensor, "motion", SENSORSYS_MOTION_VERSION,
                        "PIR motion sensor (HC-SR501) on a GPIO line through libgpiod: edges "
                        "counted by a thread",
                        kKeys)
