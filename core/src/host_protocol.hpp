// The framed protocol between the agent and sensorsys-plugin-host over a socketpair: each
// message is a 4-byte big-endian length, then a 1-byte kind, then length - 1 bytes of text.
// The agent sends Create (the instance's configuration JSON), Read and Destroy; the host answers
// each with Ok (create done, or the read's JSON object), Error (the reason create failed) or
// Refused (the plugin refused the configuration). Pure functions and a decoder object that
// owns its bytes; a FrameDecoder belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sensorsys::agent {

enum class FrameKind : char {
    Create = 'C',
    Read = 'R',
    Destroy = 'D',
    Ok = 'O',
    Error = 'E',
    Refused = 'X',
};

struct Frame {
    FrameKind kind = FrameKind::Ok;
    std::string text;
};

// A frame that breaks the protocol: a length of 0 or over the limit, or an unknown kind.
class FrameError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Largest length field accepted: the agent's output cap (1 MiB) with room for the kind.
inline constexpr std::uint32_t kMaxFrameLength = (1u << 20) + 64;

// The bytes of one frame. Throws FrameError when `text` is longer than the limit allows.
std::string encodeFrame(FrameKind kind, std::string_view text = {});

// Collects bytes as they arrive and hands out complete frames.
class FrameDecoder {
  public:
    void feed(std::string_view bytes) { _buffer.append(bytes); }
    // The next complete frame, or nothing until more bytes arrive. Throws FrameError on a
    // malformed frame; the decoder is then unusable (the stream cannot be resynchronised).
    std::optional<Frame> next();
    // Bytes received but not yet returned as a frame.
    std::size_t pending() const { return _buffer.size() - _start; }

  private:
    std::string _buffer;
    std::size_t _start = 0;
};

}  // namespace sensorsys::agent
