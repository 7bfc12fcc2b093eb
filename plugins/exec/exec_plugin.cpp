// The exec plugin module: a user's command as a sensor, bound to the plugin ABI.
#include "exec_sensor.hpp"

#include <sensorsys/plugin_support.hpp>

SENSORSYS_DEFINE_PLUGIN(sensorsys::exec::ExecSensor, "exec", SENSORSYS_EXEC_VERSION,
                        "a user's command or script whose stdout is one JSON object",
                        sensorsys::exec::kConfigKeys)
