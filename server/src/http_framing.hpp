// Strict HTTP/1.1 request framing (RFC 9112 §2-7), independent of any socket: finding the end
// of a header section, validating it and deciding how the body is framed, and decoding a
// chunked body. Everything a lenient parser would guess at (bare LF, obs-fold, a Content-Length
// next to Transfer-Encoding, a list in Content-Length, a garbage chunk size) is an error here, so
// the server and any proxy in front of it can never disagree on where a request ends.
// Pure functions and a small value-type decoder; thread-safe (no shared state).
//
// Why hand-written and not llhttp: measured in bench/server/framing_bench.cpp, llhttp splits a
// head in a third of the time (0.6 vs 1.9 us for an agent's POST), but this layer also applies
// the limits (414/431), the Host and framing rules and writes the canonical head POCO parses,
// which llhttp would still need on top; the whole costs ~1 % of the server's CPU per request
// (perf, GET /readings/latest). The framing fuzzer checks that llhttp and this layer never
// accept the same bytes yet end the request at different bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensorsys::server {

// Limits of a header section. A request line over maxTargetBytes of target gets 414; a header
// section over maxHeadBytes, a field over maxFieldBytes or more than maxFields fields get 431.
struct HeadLimits {
    std::size_t maxHeadBytes = 16384;
    std::size_t maxTargetBytes = 8192;
    std::size_t maxFieldNameBytes = 256;
    std::size_t maxFieldBytes = 8192;
    std::size_t maxFields = 96;
};

// Why a request cannot be served; the connection is closed after the answer.
struct FramingError {
    int status = 400;    // 400, 414, 431, 501 or 505
    std::string reason;  // for the JSON error body and the log
};

enum class HeadState {
    NeedMore,  // no end of the header section yet, and nothing wrong so far
    Complete,  // headBytes holds the section's length, its final empty line included
    Invalid,   // error says why; no more bytes can make it valid
};

struct HeadScan {
    HeadState state = HeadState::NeedMore;
    std::size_t headBytes = 0;
    FramingError error;
};

// Looks at the bytes received so far. Fails as early as it can (a bad method character, a bare
// LF, a request line without an HTTP version) so that a client speaking something else (TLS,
// HTTP/2, HTTP/0.9) is answered at once instead of after a timeout.
HeadScan scanHead(std::string_view data, const HeadLimits& limits);

enum class BodyFraming { None, Length, Chunked };

struct RequestHead {
    std::string method;
    std::string target;  // origin-form (an absolute-form target is reduced to it), or "*"
    int minorVersion = 1;
    std::vector<std::pair<std::string, std::string>> fields;  // as received, values trimmed
    std::string host;
    BodyFraming framing = BodyFraming::None;
    std::int64_t contentLength = 0;  // for BodyFraming::Length
    bool keepAlive = true;

    // The head as POCO's parser is given it: request line, the fields without
    // Transfer-Encoding, Connection and Host, then Host and Connection as decided here.
    std::string canonical() const;
};

struct HeadParse {
    bool ok = false;
    RequestHead head;
    FramingError error;
};

// head: a Complete section as scanHead delimited it.
HeadParse parseHead(std::string_view head, const HeadLimits& limits);

// Decodes a chunked body (RFC 9112 §7.1) incrementally: chunk extensions are allowed and
// ignored, trailer fields are validated and dropped. Anything else is an error.
class ChunkedDecoder {
  public:
    struct Piece {
        std::size_t consumed = 0;  // input bytes used, data included
        std::string_view data;     // body bytes found (a part of the input)
    };

    // Consumes framing bytes of in until it reaches body data (returned, at most maxData
    // bytes), the end of the body, an error, or the end of in.
    Piece next(std::string_view in, std::size_t maxData);
    bool done() const { return _state == State::Done; }
    bool failed() const { return _state == State::Failed; }
    const std::string& error() const { return _error; }

  private:
    enum class State { Size, Ext, SizeLf, Data, DataCr, DataLf, Trailer, TrailerLf, Done, Failed };

    void fail(const char* why);
    // One framing byte; false when it ended in failure.
    bool step(char c);
    bool stepSize(char c);
    bool stepTrailer(char c);
    bool stepTrailerEnd(char c);

    State _state = State::Size;
    std::uint64_t _size = 0;
    int _digits = 0;
    bool _extStarted = false;
    std::size_t _lineBytes = 0;
    std::size_t _trailerBytes = 0;
    std::string _trailerLine;
    std::string _error;
};

// True for the characters of an RFC 9110 token (method, field name, coding).
bool isTokenChar(char c);

// The text with control characters (and backslash) escaped as \xNN, for log lines.
std::string escapeForLog(std::string_view text);

}  // namespace sensorsys::server
