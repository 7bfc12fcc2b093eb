// The motion watcher above the GPIO seam, fed edges by a test double: exact edge counts across
// reads, the motion flag's definition, last_change, errors naming chip and line, and the
// thread gone after destruction.
#include "motion_watcher.hpp"
#include "fake_gpio_line.hpp"

#include "error_of.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <optional>

namespace {

using namespace sensorsys;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

const auto kStart = std::chrono::sys_days(std::chrono::year(2026) / 6 / 1) + 12h;

motion::GpioEdge rising(std::chrono::system_clock::duration after) {
    return {true, kStart + after};
}
motion::GpioEdge falling(std::chrono::system_clock::duration after) {
    return {false, kStart + after};
}

class MotionWatcher : public ::testing::Test {
  protected:
    void start() {
        watcher.emplace(std::make_unique<test::FakeGpioLine>(gpio));
        gpio->waitUntilIdle();  // the line is requested and its level known
    }
    Poco::JSON::Object::Ptr read() {
        return Poco::JSON::Parser().parse(watcher->read()).extract<Poco::JSON::Object::Ptr>();
    }

    std::shared_ptr<test::FakeGpio> gpio = std::make_shared<test::FakeGpio>();
    std::optional<motion::MotionWatcher> watcher;
};

TEST_F(MotionWatcher, QuietLowLineReportsNoMotionNoEventsAndNoLastChange) {
    start();
    EXPECT_EQ(watcher->read(), R"({"motion": false, "events": 0, "last_change": null})");
}

TEST_F(MotionWatcher, LineHighAtStartIsMotion) {
    gpio->setLevel(true);
    start();
    const auto reading = read();
    EXPECT_TRUE(reading->getValue<bool>("motion"));
    EXPECT_EQ(reading->getValue<int>("events"), 0);
}

TEST_F(MotionWatcher, PulseBetweenReadsIsMotionOnceThenNot) {
    start();
    gpio->feed(rising(1s));
    gpio->feed(falling(3s));
    gpio->waitUntilIdle();
    auto reading = read();
    EXPECT_TRUE(reading->getValue<bool>("motion"));  // went high since the previous read
    EXPECT_EQ(reading->getValue<int>("events"), 2);
    reading = read();
    EXPECT_FALSE(reading->getValue<bool>("motion"));  // low now, no rise since
    EXPECT_EQ(reading->getValue<int>("events"), 0);
}

TEST_F(MotionWatcher, LineStillHighIsMotionOnEveryRead) {
    start();
    gpio->feed(rising(1s));
    gpio->waitUntilIdle();
    EXPECT_TRUE(read()->getValue<bool>("motion"));
    const auto reading = read();
    EXPECT_TRUE(reading->getValue<bool>("motion"));
    EXPECT_EQ(reading->getValue<int>("events"), 0);
}

TEST_F(MotionWatcher, LastChangeIsTheLastEdgesTimeInRfc3339WithMilliseconds) {
    start();
    gpio->feed(rising(1s));
    gpio->feed(falling(2s + 345ms));
    gpio->waitUntilIdle();
    EXPECT_EQ(read()->getValue<std::string>("last_change"), "2026-06-01T12:00:02.345Z");
    // It stays the last edge's time while the line is quiet.
    EXPECT_EQ(read()->getValue<std::string>("last_change"), "2026-06-01T12:00:02.345Z");
}

TEST_F(MotionWatcher, CountsAThousandEdgesExactlyAcrossConcurrentReads) {
    start();
    int counted = 0;
    for (int edge = 0; edge < 1000; ++edge) {
        gpio->feed(edge % 2 == 0 ? rising(edge * 1ms) : falling(edge * 1ms));
        if (edge % 97 == 0) counted += read()->getValue<int>("events");
    }
    gpio->waitUntilIdle();
    counted += read()->getValue<int>("events");
    EXPECT_EQ(counted, 1000);
    EXPECT_EQ(read()->getValue<int>("events"), 0);
}

TEST_F(MotionWatcher, RequestFailureIsAReadErrorNamingChipLineAndErrno) {
    gpio->failRequests(motion::GpioError("gpiochip3", 17, "cannot request edge events", EBUSY));
    watcher.emplace(std::make_unique<test::FakeGpioLine>(gpio));
    gpio->waitForRequests(1);
    // The error is recorded right after the failed request; read() may see it a moment later.
    std::string message;
    while (message.empty()) {
        try {
            watcher->read();
        } catch (const plugin::ReadError& e) {
            message = e.what();
        }
    }
    EXPECT_THAT(message, HasSubstr("gpiochip3"));
    EXPECT_THAT(message, HasSubstr("line 17"));
    EXPECT_THAT(message, HasSubstr("EBUSY"));
}

TEST_F(MotionWatcher, RecoversWhenTheLineCanBeRequestedAgain) {
    gpio->failRequests(motion::GpioError("gpiochip0", 4, "cannot open the chip", ENOENT));
    watcher.emplace(std::make_unique<test::FakeGpioLine>(gpio));
    gpio->waitForRequests(1);
    gpio->failRequests(std::nullopt);
    gpio->waitForRequests(2);
    gpio->waitUntilIdle();
    EXPECT_EQ(watcher->read(), R"({"motion": false, "events": 0, "last_change": null})");
}

TEST_F(MotionWatcher, DestructionStopsTheThreadBeforeTheLineGoes) {
    start();
    gpio->feed(rising(1s));
    gpio->waitUntilIdle();
    watcher.reset();
    EXPECT_TRUE(gpio->lineDestroyed());
    EXPECT_EQ(gpio->callsInProgressAtDestruction(), 0);
}

}  // namespace
