// The bh1750 plugin module: binds the driver to Linux i2c-dev and to the plugin ABI.
#include "bh1750_config.hpp"
#include "bh1750_driver.hpp"

#include <sensorsys/linux_i2c_bus.hpp>
#include <sensorsys/plugin_support.hpp>

#include <string>

namespace {

using namespace sensorsys;

// One configured sensor. Construction only checks the configuration; the hardware is first
// touched by read(), so an agent starts even while the sensor is unplugged.
// Thread-safety: one thread at a time (plugin.h guarantees it per instance).
class Bh1750Sensor {
  public:
    explicit Bh1750Sensor(const plugin::Config& config)
        : Bh1750Sensor(bh1750::parseSettings(config)) {}
    // The driver refers to _bus, so the object must stay where it was built.
    Bh1750Sensor(const Bh1750Sensor&) = delete;
    Bh1750Sensor& operator=(const Bh1750Sensor&) = delete;

    std::string read() { return bh1750::formatReading(_driver.measureLux()); }

  private:
    explicit Bh1750Sensor(const bh1750::Settings& settings)
        : _bus(settings.bus), _driver(_bus, settings.address, settings.mtreg) {}

    i2c::LinuxI2cBus _bus;
    bh1750::Bh1750Driver _driver;
};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(Bh1750Sensor, "bh1750", SENSORSYS_BH1750_VERSION,
                        "ROHM BH1750 ambient light (lux) over Linux I2C", bh1750::kConfigKeys)
