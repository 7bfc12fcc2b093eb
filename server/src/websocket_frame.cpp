#include "websocket_frame.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/SHA1Engine.h>
#include <algorithm>
#include <cctype>

#include <iterator>
#include <sstream>

namespace sensorsys::server::websocket {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool isControl(std::uint8_t opcode) {
    return opcode >= 0x8;
}

bool knownOpcode(std::uint8_t opcode) {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

}  // namespace

ParseResult parseClientFrame(std::string_view buffer, std::size_t maxPayload, Frame& frame,
                             std::size_t& consumed) {
    if (buffer.size() < 2) return ParseResult::Incomplete;
    const auto b0 = static_cast<std::uint8_t>(buffer[0]);
    const auto b1 = static_cast<std::uint8_t>(buffer[1]);
    const std::uint8_t opcode = b0 & 0x0F;
    if ((b0 & 0x70) != 0 || !knownOpcode(opcode) || (b1 & 0x80) == 0) return ParseResult::Invalid;
    const bool fin = (b0 & 0x80) != 0;
    std::uint64_t length = b1 & 0x7F;
    std::size_t pos = 2;
    if (isControl(opcode) && (!fin || length > 125)) return ParseResult::Invalid;
    if (length >= 126) {
        const std::size_t bytes = length == 126 ? 2 : 8;
        if (buffer.size() < pos + bytes) return ParseResult::Incomplete;
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i)
            length = (length << 8) | static_cast<std::uint8_t>(buffer[pos + i]);
        pos += bytes;
        if (length >> 63) return ParseResult::Invalid;
    }
    if (length > maxPayload) return ParseResult::TooBig;
    if (buffer.size() < pos + 4 + length) return ParseResult::Incomplete;
    const std::string_view mask = buffer.substr(pos, 4);
    pos += 4;
    frame.fin = fin;
    frame.opcode = static_cast<Opcode>(opcode);
    frame.payload.assign(buffer.substr(pos, static_cast<std::size_t>(length)));
    for (std::size_t i = 0; i < frame.payload.size(); ++i) frame.payload[i] ^= mask[i % 4];
    consumed = pos + static_cast<std::size_t>(length);
    return ParseResult::Complete;
}

std::string encodeFrame(Opcode opcode, std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 10);
    out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
    }
    out += payload;
    return out;
}

std::string encodeClose(std::uint16_t code, std::string_view reason) {
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    payload += reason.substr(0, 123);
    return encodeFrame(Opcode::Close, payload);
}

std::optional<std::string> acceptKey(std::string_view key) {
    // Base64 of 16 bytes is 22 characters and "==". Checked before decoding: POCO's decoder
    // reports bad input by throwing from inside the stream, which left a partly built string
    // behind (the websocket_frame fuzzer found the leak).
    const auto base64 = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
    };
    if (key.size() != 24 || key.substr(22) != "==" ||
        !std::all_of(key.begin(), key.begin() + 22, base64)) {
        return std::nullopt;
    }
    std::istringstream in{std::string(key)};
    Poco::Base64Decoder decoder(in);
    char decoded[17];
    decoder.read(decoded, sizeof decoded);
    if (decoder.gcount() != 16) return std::nullopt;
    Poco::SHA1Engine sha1;
    sha1.update(std::string(key) + std::string(kGuid));
    const auto& digest = sha1.digest();
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.write(reinterpret_cast<const char*>(digest.data()),
                  static_cast<std::streamsize>(digest.size()));
    encoder.close();
    return out.str();
}

}  // namespace sensorsys::server::websocket
