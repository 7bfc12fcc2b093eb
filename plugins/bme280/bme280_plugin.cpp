// The bme280 plugin module: binds the driver to Linux i2c-dev and to the plugin ABI.
#include "bme280_config.hpp"
#include "bme280_driver.hpp"
#include "bme280_output.hpp"

#include <sensorsys/linux_i2c_bus.hpp>
#include <sensorsys/plugin_support.hpp>

#include <string>

namespace {

using namespace sensorsys;

// One configured sensor. Construction only checks the configuration; the hardware is first
// touched by read(), so an agent starts even while the sensor is unplugged.
// Thread-safety: one thread at a time (plugin.h guarantees it per instance).
class Bme280Sensor {
  public:
    explicit Bme280Sensor(const plugin::Config& config)
        : Bme280Sensor(bme280::parseSettings(config)) {}
    // The driver refers to _bus, so the object must stay where it was built.
    Bme280Sensor(const Bme280Sensor&) = delete;
    Bme280Sensor& operator=(const Bme280Sensor&) = delete;

    std::string read() { return bme280::formatReading(_driver.measure()); }

  private:
    explicit Bme280Sensor(const bme280::Settings& settings)
        : _bus(settings.bus), _driver(_bus, settings.addresses) {}

    i2c::LinuxI2cBus _bus;
    bme280::Bme280Driver _driver;
};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(Bme280Sensor, "bme280", SENSORSYS_PLUGIN_VERSION,
                        "Bosch BME280/BMP280 temperature, pressure and humidity over Linux I2C",
                        sensorsys::bme280::kConfigKeys)
