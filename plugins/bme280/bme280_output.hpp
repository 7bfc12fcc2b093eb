// The JSON a bme280 reading becomes: the plugin's output contract.
#pragma once

#include "bme280_driver.hpp"

#include <string>

namespace sensorsys::bme280 {

// {"temperature": {"c": 21.53, "f": 70.75}, "pressure": {"hpa": 1013.21},
//  "humidity": {"rh": 45.12}}; no "humidity" key for a BMP280. Values are rounded to two
// decimals, finer than the sensor's accuracy. Throws plugin::ReadError for a non-finite value,
// which JSON cannot carry.
std::string formatReading(const Measurement& measurement);

}  // namespace sensorsys::bme280
