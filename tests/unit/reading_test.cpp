#include "reading.hpp"

#include <cstdlib>
#include <ctime>

#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

using namespace std::chrono;

// Sets TZ for one test and restores it (time zone is process state: tests in this binary
// that depend on it run one at a time under gtest).
class TimeZone {
  public:
    explicit TimeZone(const char* tz) {
        if (const char* old = std::getenv("TZ")) _old = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~TimeZone() {
        if (_old.empty()) {
            ::unsetenv("TZ");
        } else {
            ::setenv("TZ", _old.c_str(), 1);
        }
        ::tzset();
    }

  private:
    std::string _old;
};

const system_clock::time_point kInstant = system_clock::time_point(seconds(1795755600)) +
                                          microseconds(123456);  // 2026-11-27T05:00:00.123456Z

TEST(Timestamps, UtcHasMicrosecondsAndZ) {
    EXPECT_EQ(formatUtc(kInstant), "2026-11-27T05:00:00.123456Z");
}

TEST(Timestamps, LocalKeepsTheOffset) {
    {
        TimeZone tz("Europe/Berlin");
        EXPECT_EQ(formatLocal(kInstant), "2026-11-27T06:00:00.123456+01:00");
    }
    {
        TimeZone tz("America/St_Johns");
        EXPECT_EQ(formatLocal(kInstant), "2026-11-27T01:30:00.123456-03:30");
    }
    {
        TimeZone tz("UTC");
        EXPECT_EQ(formatLocal(kInstant), "2026-11-27T05:00:00.123456+00:00");
    }
}

TEST(Timestamps, BeforeEpochFloorsCorrectly) {
    EXPECT_EQ(formatUtc(system_clock::time_point(microseconds(-1))), "1969-12-31T23:59:59.999999Z");
}

TEST(Reading, SerialisesTheSeedShapeWithInstanceNamesAsKeys) {
    Reading r{"pi-kitchen",
              "0190f1c2-0000-7000-8000-000000000000",
              "2026-11-27T05:00:00.000000Z",
              "2026-11-27T06:00:00.000000+01:00",
              {{"disk", R"({"total_mb": 1, "used_mb": 0, "free_mb": 1})", true},
               {"cpu_temp", R"({"error":"no sensor"})", false}}};
    EXPECT_EQ(
        r.toJson(),
        R"({"device_id":"pi-kitchen","reading_id":"0190f1c2-0000-7000-8000-000000000000",)"
        R"("ts_utc":"2026-11-27T05:00:00.000000Z","ts_local":"2026-11-27T06:00:00.000000+01:00",)"
        R"("payload":{"disk":{"total_mb": 1, "used_mb": 0, "free_mb": 1},"cpu_temp":{"error":"no sensor"}}})");
}

TEST(Reading, EscapesDeviceId) {
    Reading r{"a\"b", "id", "t", "l", {}};
    EXPECT_EQ(r.toJson(),
              R"({"device_id":"a\"b","reading_id":"id","ts_utc":"t","ts_local":"l","payload":{}})");
}

}  // namespace
}  // namespace sensorsys::agent
