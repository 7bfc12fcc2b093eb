#include "bme280_output.hpp"

#include <cmath>
#include <cstdio>

namespace sensorsys::bme280 {
namespace {

std::string number(double value, const char* what) {
    if (!std::isfinite(value)) {
        throw plugin::ReadError(std::string("compensation gave a non-finite ") + what);
    }
    double rounded = plugin::round(value, 2);
    if (rounded == 0.0) rounded = 0.0;  // no "-0.00" for values just below zero
    // Fixed notation prints the rounded value exactly as two decimals, never "21.530000001".
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", rounded);
    return text;
}

}  // namespace

std::string formatReading(const Measurement& m) {
    std::string json = "{\"temperature\": {\"c\": " + number(m.temperatureC, "temperature") +
                       ", \"f\": " + number(m.temperatureC * 9.0 / 5.0 + 32.0, "temperature") +
                       "}, \"pressure\": {\"hpa\": " + number(m.pressurePa / 100.0, "pressure") +
                       "}";
    if (m.humidityRh) {
        json += ", \"humidity\": {\"rh\": " + number(*m.humidityRh, "humidity") + "}";
    }
    json += "}";
    return json;
}

}  // namespace sensorsys::bme280
