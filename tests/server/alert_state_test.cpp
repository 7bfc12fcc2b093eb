// The alert state machine on its own: hysteresis, `for` in reading time, sensor errors,
// no-data, and late episodes deferred into one catch-up summary.
#include "alert_state.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sensorsys::server {
namespace {

constexpr std::int64_t kMinute = 60LL * 1000000;

AlertRule hotRule(std::chrono::seconds forDuration = std::chrono::seconds(0)) {
    AlertRule r;
    r.name = "hot";
    r.kind = RuleKind::Above;
    r.metric = "t";
    r.threshold = 30;
    r.clear = 28.5;
    r.forDuration = forDuration;
    return r;
}

// Feeds one value a minute; returns the notices owed.
std::vector<Notice> feed(const AlertRule& rule, AlertStatus& s, const std::vector<double>& values,
                         bool late = false, std::int64_t start = 0) {
    std::vector<Notice> notices;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const Step step = applyReading(
            rule, s, {start + static_cast<std::int64_t>(i) * kMinute, values[i], late});
        if (step.notice != Notice::None) notices.push_back(step.notice);
    }
    return notices;
}

TEST(AlertState, ValuesOscillatingBetweenClearAndAboveFireOnce) {
    AlertStatus s;
    const auto notices = feed(hotRule(), s, {25, 31, 29, 31, 29, 30.5, 29, 31});
    EXPECT_EQ(notices, std::vector<Notice>{Notice::Firing});
    EXPECT_EQ(s.state, AlertState::Firing);
    EXPECT_EQ(feed(hotRule(), s, {28}, false, 10 * kMinute), std::vector<Notice>{Notice::Resolved});
    EXPECT_EQ(s.state, AlertState::Ok);
}

TEST(AlertState, AnExcursionShorterThanForDoesNotFire) {
    AlertStatus s;
    // Above from minute 1 to minute 4, then back.
    const auto notices = feed(hotRule(std::chrono::minutes(5)), s, {25, 31, 31, 31, 31, 25});
    EXPECT_TRUE(notices.empty());
    EXPECT_EQ(s.state, AlertState::Ok);
}

TEST(AlertState, AnExcursionLongerThanForFiresOnceWhenForHasPassed) {
    AlertStatus s;
    const auto notices =
        feed(hotRule(std::chrono::minutes(5)), s, {25, 31, 31, 31, 31, 31, 31, 31});
    EXPECT_EQ(notices, std::vector<Notice>{Notice::Firing});
    EXPECT_EQ(s.sinceMicros, 6 * kMinute);  // minute 1 + 5 minutes
    EXPECT_EQ(s.episodeMicros, 1 * kMinute);
}

TEST(AlertState, ASensorErrorNeitherFiresNorResolves) {
    AlertStatus s;
    const AlertRule rule = hotRule();
    EXPECT_FALSE(applyReading(rule, s, {0, std::nullopt, false}).transition);
    feed(rule, s, {31});
    EXPECT_FALSE(applyReading(rule, s, {kMinute, std::nullopt, false}).transition);
    EXPECT_EQ(s.state, AlertState::Firing);
}

TEST(AlertState, NoDataFiresOnceAndAnyReadingResolvesIt) {
    AlertRule rule;
    rule.name = "offline";
    rule.kind = RuleKind::NoData;
    AlertStatus s;
    EXPECT_EQ(applyNoData(s, 100).notice, Notice::Firing);
    EXPECT_FALSE(applyNoData(s, 200).transition);
    EXPECT_EQ(s.state, AlertState::NoData);
    EXPECT_EQ(applyReading(rule, s, {300, std::nullopt, false}).notice, Notice::Resolved);
    EXPECT_EQ(s.state, AlertState::Ok);
}

TEST(AlertState, EpisodesOverWithinABacklogBecomeOneSummary) {
    AlertStatus s;
    const AlertRule rule = hotRule();
    // Two episodes, both fired and ended on late readings: nothing paged.
    EXPECT_TRUE(feed(rule, s, {25, 31, 31, 25, 31, 25}, true).empty());
    EXPECT_EQ(s.state, AlertState::Ok);
    const CatchUp c = takeCatchUp(s);
    EXPECT_FALSE(c.firing);
    EXPECT_TRUE(c.summary);
    EXPECT_EQ(c.episodes, 2);
    EXPECT_EQ(c.startMicros, 1 * kMinute);
    EXPECT_EQ(c.endMicros, 5 * kMinute);
    EXPECT_FALSE(takeCatchUp(s).summary);  // taken once
}

TEST(AlertState, AnEpisodeStillFiringAtTheNewestReadingIsPagedAtCatchUp) {
    AlertStatus s;
    const AlertRule rule = hotRule();
    EXPECT_TRUE(feed(rule, s, {25, 31, 31}, true).empty());
    const CatchUp c = takeCatchUp(s);
    EXPECT_TRUE(c.firing);
    EXPECT_FALSE(c.summary);
    // Paged: its end is a normal resolved message.
    EXPECT_EQ(feed(rule, s, {20}, false, 10 * kMinute), std::vector<Notice>{Notice::Resolved});
}

TEST(AlertState, AnAlertFiredLiveThatEndsInABacklogSendsItsResolved) {
    AlertStatus s;
    const AlertRule rule = hotRule();
    EXPECT_EQ(feed(rule, s, {31}), std::vector<Notice>{Notice::Firing});
    EXPECT_EQ(feed(rule, s, {20}, true, kMinute), std::vector<Notice>{Notice::Resolved});
    EXPECT_FALSE(takeCatchUp(s).summary);
}

TEST(AlertState, StateNamesRoundTrip) {
    for (auto st : {AlertState::Ok, AlertState::Pending, AlertState::Firing, AlertState::NoData})
        EXPECT_EQ(parseAlertState(alertStateName(st)), st);
    EXPECT_FALSE(parseAlertState("bogus"));
}

}  // namespace
}  // namespace sensorsys::server
