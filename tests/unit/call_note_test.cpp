#include "call_note.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace sensorsys::agent {
namespace {

using ::testing::ElementsAre;

TEST(CallNote, ACallInProgressIsWhatTheNextOpeningReports) {
    test::TempDir dir;
    const auto file = dir.path() / "calls";
    const CallNote note(file);
    const CallNote::Call done(&note, 0, "sensor 'a' was being read");
    { const CallNote::Call running(&note, 2, "sensor 'c' was being created"); }
    const CallNote::Call running(&note, 1, "sensor 'b' was being read");
    EXPECT_THAT(CallNote(file).interrupted(),
                ElementsAre("sensor 'a' was being read", "sensor 'b' was being read"));
}

TEST(CallNote, OpeningEmptiesTheNoteForThisRun) {
    test::TempDir dir;
    const auto file = dir.path() / "calls";
    {
        const CallNote note(file);
        const CallNote::Call running(&note, 0, "sensor 'a' was being read");
        EXPECT_EQ(CallNote(file).interrupted().size(), 1u);
    }
    EXPECT_TRUE(CallNote(file).interrupted().empty());
}

TEST(CallNote, AnUnwritableNoteRecordsNothingAndNeverFails) {
    const CallNote note("/nonexistent/folder/calls");
    const CallNote::Call call(&note, 0, "sensor 'a' was being read");
    EXPECT_TRUE(note.interrupted().empty());
}

}  // namespace
}  // namespace sensorsys::agent
