// Fuzz target: the live feed's WebSocket frame parser (server/src/websocket_frame.*), fed the
// raw bytes a client sends after the handshake, and the handshake's key check. Besides "no
// crash, no leak, no undefined behaviour" it checks that:
//  - a frame is found complete at the same byte however many bytes have arrived (a prefix of a
//    complete frame is incomplete, never a different frame or an error);
//  - no payload longer than the limit is ever returned;
//  - a parsed frame, masked again, parses back to itself.
#include "fuzz_check.hpp"
#include "websocket_frame.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys::server::websocket;
using sensorsys::fuzz::require;

constexpr std::size_t kLimit = 4096;

// The frame as a client sends it: masked with the key.
std::string masked(const Frame& frame, std::string_view key) {
    std::string plain = encodeFrame(frame.opcode, frame.payload);
    if (!frame.fin) plain[0] = static_cast<char>(plain[0] & 0x7F);
    const std::size_t header = plain.size() - frame.payload.size();
    std::string out = plain.substr(0, header);
    out[1] = static_cast<char>(out[1] | 0x80);
    out += key;
    for (std::size_t i = 0; i < frame.payload.size(); ++i)
        out += static_cast<char>(frame.payload[i] ^ key[i % 4]);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)acceptKey(input.substr(0, 40));
    std::string_view rest = input;
    while (!rest.empty()) {
        Frame frame;
        std::size_t used = 0;
        const ParseResult whole = parseClientFrame(rest, kLimit, frame, used);
        if (whole != ParseResult::Complete) return 0;
        require(used > 0 && used <= rest.size(), "consumed outside the input");
        require(frame.payload.size() <= kLimit, "payload over the limit");
        Frame partial;
        std::size_t partialUsed = 0;
        require(parseClientFrame(rest.substr(0, used - 1), kLimit, partial, partialUsed) ==
                    ParseResult::Incomplete,
                "a prefix of a complete frame is not incomplete");
        Frame again;
        std::size_t againUsed = 0;
        const std::string bytes = masked(frame, rest.substr(used - frame.payload.size() - 4, 4));
        require(parseClientFrame(bytes, kLimit, again, againUsed) == ParseResult::Complete &&
                    againUsed == bytes.size() && again.payload == frame.payload &&
                    again.fin == frame.fin && again.opcode == frame.opcode,
                "a frame does not parse back to itself");
        rest = rest.substr(used);
    }
    return 0;
}
