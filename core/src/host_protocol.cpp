#include "host_protocol.hpp"

namespace sensorsys::agent {
namespace {

constexpr std::size_t kHeaderSize = 4;

bool knownKind(char kind) {
    switch (static_cast<FrameKind>(kind)) {
        case FrameKind::Create:
        case FrameKind::Read:
        case FrameKind::Destroy:
        case FrameKind::Ok:
        case FrameKind::Error:
        case FrameKind::Refused:
            return true;
    }
    return false;
}

}  // namespace

std::string encodeFrame(FrameKind kind, std::string_view text) {
    if (text.size() > kMaxFrameLength - 1) {
        throw FrameError("frame of " + std::to_string(text.size()) + " bytes is over the limit");
    }
    const auto length = static_cast<std::uint32_t>(text.size() + 1);
    std::string frame;
    frame.reserve(kHeaderSize + length);
    for (int shift = 24; shift >= 0; shift -= 8) {
        frame.push_back(static_cast<char>((length >> shift) & 0xFFu));
    }
    frame.push_back(static_cast<char>(kind));
    frame.append(text);
    return frame;
}

std::optional<Frame> FrameDecoder::next() {
    if (pending() < kHeaderSize) return std::nullopt;
    std::uint32_t length = 0;
    for (std::size_t i = 0; i < kHeaderSize; ++i) {
        length = (length << 8) | static_cast<unsigned char>(_buffer[_start + i]);
    }
    if (length == 0 || length > kMaxFrameLength) {
        throw FrameError("frame length " + std::to_string(length) + " is out of range");
    }
    if (pending() < kHeaderSize + length) return std::nullopt;
    const char kind = _buffer[_start + kHeaderSize];
    if (!knownKind(kind)) {
        throw FrameError("unknown frame kind " + std::to_string(static_cast<unsigned char>(kind)));
    }
    Frame frame{static_cast<FrameKind>(kind), _buffer.substr(_start + kHeaderSize + 1, length - 1)};
    _start += kHeaderSize + length;
    // Drop consumed bytes once they dominate, so a long-lived stream does not grow the buffer.
    if (_start > 4096 && _start * 2 > _buffer.size()) {
        _buffer.erase(0, _start);
        _start = 0;
    }
    return frame;
}

}  // namespace sensorsys::agent
