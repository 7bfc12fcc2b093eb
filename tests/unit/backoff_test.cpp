// Backoff: exponential windows with full jitter, capped, reset after a success.
#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "sync/backoff.hpp"

namespace sensorsys::agent {
namespace {

TEST(Backoff, FullJitterWithinADoublingWindowUpToTheCap) {
    Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(8), 42);
    const long long windows[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (long long window : windows) {
        const auto wait = backoff.next().count();
        EXPECT_GE(wait, 0);
        EXPECT_LE(wait, window);
    }
    backoff.reset();
    EXPECT_LE(backoff.next().count(), 1000);
}

TEST(Backoff, IsSpreadNotConstant) {
    Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(300), 7);
    for (int i = 0; i < 10; ++i) backoff.next();
    std::set<long long> seen;
    for (int i = 0; i < 20; ++i) seen.insert(backoff.next().count());
    EXPECT_GT(seen.size(), 15u);
}

}  // namespace
}  // namespace sensorsys::agent
