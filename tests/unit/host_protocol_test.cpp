// The frames between the agent and sensorsys-plugin-host: what encodes decodes back, in any
// pieces, and a frame that breaks the protocol is refused rather than guessed at.
#include "host_protocol.hpp"

#include <gtest/gtest.h>

namespace sensorsys::agent {
namespace {

TEST(HostProtocol, FrameIsBigEndianLengthThenKindThenText) {
    EXPECT_EQ(encodeFrame(FrameKind::Create, "{}"), std::string("\0\0\0\3C{}", 7));
    EXPECT_EQ(encodeFrame(FrameKind::Read), std::string("\0\0\0\1R", 5));
}

TEST(HostProtocol, FramesDecodeBackWhenFedOneByteAtATime) {
    const std::string bytes = encodeFrame(FrameKind::Ok, "{\"value\": 42}") +
                              encodeFrame(FrameKind::Refused, "sensor 'x': bad key") +
                              encodeFrame(FrameKind::Destroy);
    FrameDecoder decoder;
    std::vector<Frame> frames;
    for (char c : bytes) {
        decoder.feed(std::string_view(&c, 1));
        while (auto frame = decoder.next()) frames.push_back(*frame);
    }
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].kind, FrameKind::Ok);
    EXPECT_EQ(frames[0].text, "{\"value\": 42}");
    EXPECT_EQ(frames[1].kind, FrameKind::Refused);
    EXPECT_EQ(frames[1].text, "sensor 'x': bad key");
    EXPECT_EQ(frames[2].kind, FrameKind::Destroy);
    EXPECT_EQ(decoder.pending(), 0u);
}

TEST(HostProtocol, IncompleteFrameWaitsForTheRest) {
    const std::string bytes = encodeFrame(FrameKind::Error, "create failed");
    FrameDecoder decoder;
    decoder.feed(bytes.substr(0, bytes.size() - 1));
    EXPECT_FALSE(decoder.next());
    decoder.feed(bytes.substr(bytes.size() - 1));
    EXPECT_EQ(decoder.next()->text, "create failed");
}

TEST(HostProtocol, TextWithZeroBytesAndNewlinesSurvives) {
    const std::string text("a\0b\nc", 5);
    FrameDecoder decoder;
    decoder.feed(encodeFrame(FrameKind::Ok, text));
    EXPECT_EQ(decoder.next()->text, text);
}

TEST(HostProtocol, ZeroLengthIsRefused) {
    FrameDecoder decoder;
    decoder.feed(std::string("\0\0\0\0", 4));
    EXPECT_THROW(decoder.next(), FrameError);
}

TEST(HostProtocol, LengthOverTheLimitIsRefusedBeforeItsBytesArrive) {
    FrameDecoder decoder;
    decoder.feed(std::string("\x7f\xff\xff\xffO", 5));
    EXPECT_THROW(decoder.next(), FrameError);
}

TEST(HostProtocol, UnknownKindIsRefused) {
    FrameDecoder decoder;
    decoder.feed(std::string("\0\0\0\1Z", 5));
    EXPECT_THROW(decoder.next(), FrameError);
}

TEST(HostProtocol, EncodingTextOverTheLimitThrows) {
    EXPECT_THROW(encodeFrame(FrameKind::Ok, std::string(kMaxFrameLength, 'x')), FrameError);
    EXPECT_NO_THROW(encodeFrame(FrameKind::Ok, std::string(kMaxFrameLength - 1, 'x')));
}

}  // namespace
}  // namespace sensorsys::agent
