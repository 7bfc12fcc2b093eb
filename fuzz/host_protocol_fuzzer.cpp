// Fuzz target: the agent's decoder of sensorsys-plugin-host's frames (host_protocol.hpp), the
// bytes a crashed or hostile host process may send. The input is fed in pieces whose sizes the
// first byte chooses, as a socket would deliver it.
//
// Checked: no crash or undefined behaviour; decoding stops only at a FrameError; every frame
// decoded encodes back to exactly the bytes it was read from, and the decoder never holds more
// than it was fed.
#include "fuzz_check.hpp"
#include "host_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys::agent;
using sensorsys::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    FrameDecoder decoder;
    std::string reencoded;
    std::size_t fed = 0;
    try {
        while (fed < input.size()) {
            const auto chunk = input.substr(fed, piece);
            decoder.feed(chunk);
            fed += chunk.size();
            while (auto frame = decoder.next()) reencoded += encodeFrame(frame->kind, frame->text);
            require(decoder.pending() + reencoded.size() == fed, "decoder lost or made bytes");
        }
        require(input.substr(0, reencoded.size()) == reencoded, "frame does not re-encode");
    } catch (const FrameError&) {
        require(input.substr(0, reencoded.size()) == reencoded, "frame does not re-encode");
    }
    return 0;
}
