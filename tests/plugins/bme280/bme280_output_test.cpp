// The JSON text of a reading: rounding, key set, and what JSON cannot carry.
#include "bme280_output.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using namespace sensorsys::bme280;

TEST(Bme280Output, RoundsToTwoDecimals) {
    const Measurement m{21.534999, 101321.4, 45.1249};
    EXPECT_EQ(formatReading(m),
              R"({"temperature": {"c": 21.53, "f": 70.76}, "pressure": {"hpa": 1013.21}, )"
              R"("humidity": {"rh": 45.12}})");
}

TEST(Bme280Output, KeepsTrailingZerosAndNegativeValues) {
    const Measurement m{-10.5, 100000.0, 0.0};
    EXPECT_EQ(formatReading(m),
              R"({"temperature": {"c": -10.50, "f": 13.10}, "pressure": {"hpa": 1000.00}, )"
              R"("humidity": {"rh": 0.00}})");
}

TEST(Bme280Output, NeverPrintsNegativeZero) {
    const Measurement m{-0.001, 100000.0, std::nullopt};
    EXPECT_EQ(formatReading(m),
              R"({"temperature": {"c": 0.00, "f": 32.00}, "pressure": {"hpa": 1000.00}})");
}

TEST(Bme280Output, Bmp280HasNoHumidityKey) {
    const Measurement m{25.08247793081682, 100653.25814481472, std::nullopt};
    EXPECT_EQ(formatReading(m),
              R"({"temperature": {"c": 25.08, "f": 77.15}, "pressure": {"hpa": 1006.53}})");
}

TEST(Bme280Output, RefusesNonFiniteValues) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(formatReading(Measurement{nan, 100000.0, std::nullopt}),
                 sensorsys::plugin::ReadError);
    EXPECT_THROW(formatReading(Measurement{20.0, INFINITY, std::nullopt}),
                 sensorsys::plugin::ReadError);
}

}  // namespace
