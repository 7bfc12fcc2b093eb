// RFC 6455 framing for the live feed: the handshake's accept key, parsing of client frames
// (which must be masked) and encoding of server frames (never masked). Pure functions over
// buffers, so the fuzzer calls them directly. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server::websocket {

enum class Opcode : std::uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// Close codes the live feed sends.
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kTryAgainLater = 1013;

struct Frame {
    bool fin = true;
    Opcode opcode = Opcode::Text;
    std::string payload;  // unmasked
};

enum class ParseResult {
    Incomplete,  // more bytes needed
    Complete,    // frame filled, consumed bytes taken
    TooBig,      // the payload is larger than maxPayload: close 1009
    Invalid,     // not a valid client frame: close 1002
};

// Parses the first frame of buffer; on Complete, consumed is its length in bytes. A payload
// longer than maxPayload is refused from its header alone, before it arrives.
ParseResult parseClientFrame(std::string_view buffer, std::size_t maxPayload, Frame& frame,
                             std::size_t& consumed);

// One unmasked, final server frame.
std::string encodeFrame(Opcode opcode, std::string_view payload);
std::string encodeClose(std::uint16_t code, std::string_view reason = {});

// Sec-WebSocket-Accept for a Sec-WebSocket-Key; nothing when the key is not the base64 of 16
// bytes.
std::optional<std::string> acceptKey(std::string_view key);

}  // namespace sensorsys::server::websocket
