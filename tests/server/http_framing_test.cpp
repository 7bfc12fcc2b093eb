// The framing parser without a socket: where a header section ends, how the body is framed,
// and how a chunked body decodes, byte by byte as a slow client sends it.
#include "http_framing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sensorsys::server {
namespace {

HeadParse parse(const std::string& head) {
    const HeadLimits limits;
    const HeadScan scan = scanHead(head, limits);
    if (scan.state != HeadState::Complete) {
        HeadParse p;
        p.error = scan.state == HeadState::Invalid ? scan.error : FramingError{0, "incomplete"};
        return p;
    }
    return parseHead(std::string_view(head).substr(0, scan.headBytes), limits);
}

TEST(HttpFraming, ACompleteHeadEndsAtItsEmptyLineAndThePipelinedRestIsNotLookedAt) {
    const std::string data = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\n\r";
    const auto scan = scanHead(data, HeadLimits{});
    ASSERT_EQ(scan.state, HeadState::Complete);
    EXPECT_EQ(scan.headBytes, data.find("GARBAGE"));
}

TEST(HttpFraming, AnIncompleteHeadNeedsMoreUntilItsLimit) {
    EXPECT_EQ(scanHead("GET /a HTTP/1.1\r\nHost: x\r\n", HeadLimits{}).state, HeadState::NeedMore);
    EXPECT_EQ(scanHead("GET /a HTTP/1.1\r\nHost: x\r", HeadLimits{}).state, HeadState::NeedMore);
    HeadLimits small;
    small.maxHeadBytes = 64;
    const auto scan = scanHead("GET /a HTTP/1.1\r\nX: " + std::string(100, 'a'), small);
    EXPECT_EQ(scan.state, HeadState::Invalid);
    EXPECT_EQ(scan.error.status, 431);
}

TEST(HttpFraming, SomethingThatIsNotHttpIsRefusedFromItsFirstBytes) {
    EXPECT_EQ(scanHead("\x16\x03\x01", HeadLimits{}).state, HeadState::Invalid);
    EXPECT_EQ(scanHead("GET /health\r\n", HeadLimits{}).error.status, 400);
    EXPECT_EQ(scanHead("PRI * HTTP/2.0\r\n", HeadLimits{}).error.status, 505);
}

TEST(HttpFraming, BodyFramingIsDecidedOnce) {
    auto p = parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n");
    ASSERT_TRUE(p.ok) << p.error.reason;
    EXPECT_EQ(p.head.framing, BodyFraming::Length);
    EXPECT_EQ(p.head.contentLength, 12);
    p = parse("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.head.framing, BodyFraming::Chunked);
    p = parse("POST /a HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.head.framing, BodyFraming::None);
    EXPECT_EQ(parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n")
                  .error.status,
              400);
    EXPECT_EQ(parse("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
                  .error.status,
              501);
}

TEST(HttpFraming, TheCanonicalHeadDropsTransferEncodingAndStatesHostAndConnection) {
    const auto p = parse(
        "POST http://h:1/a?b=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: "
        "keep-alive, close\r\nX-A: b\r\n\r\n");
    ASSERT_TRUE(p.ok) << p.error.reason;
    EXPECT_EQ(p.head.canonical(),
              "POST /a?b=1 HTTP/1.1\r\nHost: h:1\r\nX-A: b\r\nConnection: close\r\n\r\n");
}

TEST(HttpFraming, AChunkedBodyDecodesTheSameByteByByteAsAtOnce) {
    const std::string wire = "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nNEXT";
    ChunkedDecoder whole;
    std::string out;
    std::string_view in = wire;
    while (!whole.done() && !whole.failed() && !in.empty()) {
        const auto piece = whole.next(in, 1000);
        out += piece.data;
        in.remove_prefix(piece.consumed);
    }
    EXPECT_TRUE(whole.done());
    EXPECT_EQ(out, "abc0123456789abcdef");
    EXPECT_EQ(in, "NEXT");
    ChunkedDecoder slow;
    std::string slowOut;
    for (std::size_t i = 0; i < wire.size() && !slow.done(); ++i) {
        const auto piece = slow.next(std::string_view(wire).substr(i, 1), 1);
        slowOut += piece.data;
    }
    EXPECT_TRUE(slow.done());
    EXPECT_EQ(slowOut, out);
}

TEST(HttpFraming, AMalformedChunkFailsTheBodyInsteadOfEndingIt) {
    for (const std::string wire : {"zz\r\n", "5\r\nhelloXX", "5\nhello\r\n", "-1\r\n",
                                   "10000000000000000\r\n", "0\r\nbad\r\n\r\n"}) {
        ChunkedDecoder d;
        std::string_view in = wire;
        while (!d.done() && !d.failed() && !in.empty()) {
            in.remove_prefix(d.next(in, 100).consumed);
        }
        EXPECT_TRUE(d.failed()) << wire;
        EXPECT_FALSE(d.done()) << wire;
    }
}

TEST(HttpFraming, LogTextHasNoControlCharacters) {
    EXPECT_EQ(escapeForLog("/a\x1b[31m\\b\n"), "/a\\x1b[31m\\x5cb\\x0a");
}

}  // namespace
}  // namespace sensorsys::server
