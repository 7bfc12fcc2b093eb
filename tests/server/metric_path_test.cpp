// Metric path validation: what GET /readings/series accepts as `metric`.
#include "metric_path.hpp"

#include <gtest/gtest.h>

namespace sensorsys::server {
namespace {

TEST(MetricPath, PathsOfLowerCaseKeysJoinedByDotsAreAccepted) {
    for (const char* path : {"cpu_temp.c", "bme280.temperature.c", "indoor.humidity.rh", "n",
                             "disk.used_mb", "a.b.c.d.e.f.g.h"}) {
        EXPECT_EQ(metricPathProblem(path), std::nullopt) << path;
    }
}

TEST(MetricPath, AnythingElseIsRefusedWithTheReason) {
    for (const char* path :
         {"", ".a", "a.", "a..b", "A.b", "a b", "a'b", "a\"b", "a-b", "a/b", "a.b.c.d.e.f.g.h.i"}) {
        EXPECT_NE(metricPathProblem(path), std::nullopt) << path;
    }
    EXPECT_NE(metricPathProblem(std::string(201, 'a'))->find("200"), std::string::npos);
    EXPECT_NE(metricPathProblem("a.b.c.d.e.f.g.h.i")->find("levels"), std::string::npos);
}

}  // namespace
}  // namespace sensorsys::server
