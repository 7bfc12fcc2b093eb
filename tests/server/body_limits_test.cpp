#include "body_limits.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace sensorsys::server {
namespace {

TEST(BodyLimits, AnnouncedLengthOverTheLimitIsRefusedWithoutReading) {
    std::istringstream in("whatever");
    std::string out;
    EXPECT_EQ(readBody(in, 5000, 1024, out), BodyRead::TooLarge);
    EXPECT_EQ(in.tellg(), 0);
}

TEST(BodyLimits, UnannouncedBodyIsCutAtTheLimit) {
    std::istringstream in(std::string(4096, 'x'));
    std::string out;
    EXPECT_EQ(readBody(in, std::nullopt, 1024, out), BodyRead::TooLarge);
    EXPECT_LE(out.size(), 1024u);
}

TEST(BodyLimits, CompleteAndShortBodies) {
    std::istringstream in("{\"a\": 1}");
    std::string out;
    EXPECT_EQ(readBody(in, 8, 1024, out), BodyRead::Complete);
    EXPECT_EQ(out, "{\"a\": 1}");
    std::istringstream shortIn("abc");
    EXPECT_EQ(readBody(shortIn, 10, 1024, out), BodyRead::Broken);
}

}  // namespace
}  // namespace sensorsys::server
