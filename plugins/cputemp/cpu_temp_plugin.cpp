// The cpu_temp plugin module: only the glue between the ABI and sensorsys_cputemp_lib.
#include <sensorsys/plugin_support.hpp>
#include "cpu_temp.hpp"

#include <string>

namespace {

// One configured cpu_temp instance as the host sees it.
// Thread-safety: as CpuThermometer (immutable); the host reads one instance at a time anyway.
class CpuTempSensor {
  public:
    explicit CpuTempSensor(const sensorsys::plugin::Config& config)
        : _thermometer(sensorsys::cputemp::Settings::fromConfig(config)) {}

    std::string read() { return sensorsys::cputemp::formatReading(_thermometer.celsius()); }

  private:
    sensorsys::cputemp::CpuThermometer _thermometer;
};

}  // namespace

SENSORSYS_DEFINE_PLUGIN(CpuTempSensor, "cpu_temp", SENSORSYS_PLUGIN_VERSION,
                        "CPU temperature from vcgencmd or the kernel thermal zone",
                        sensorsys::cputemp::kConfigKeys)
