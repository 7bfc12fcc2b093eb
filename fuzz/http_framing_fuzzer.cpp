// Fuzz target: the server's strict HTTP/1.1 framing (server/src/http_framing.*), fed the raw
// bytes a client sends on a connection. Besides "no crash, no leak, no undefined behaviour" it
// checks the properties request smuggling would break:
//  - scanHead is consistent as bytes arrive: a prefix found invalid stays invalid, a prefix
//    found complete ends at the same byte in the whole input;
//  - an accepted head's canonical form (what POCO parses) is accepted again with the same
//    method, target, version, host, keep-alive and Content-Length, and holds no CR or LF
//    other than its line ends;
//  - a chunked body decodes the same whole and in small pieces, and ends at the same byte;
//  - differential: when both our framing and llhttp (Node.js's strict parser) accept the first
//    request, they agree on the byte where it ends. Either may refuse what the other accepts
//    (we refuse more: no Host, obs-fold, limits), since a refused request closes the
//    connection; a request both accept but see ending at different bytes is what smuggling
//    through a proxy built on the other parser would use.
#include "fuzz_check.hpp"
#include "http_framing.hpp"

#ifdef SENSORSYS_HAVE_LLHTTP
#include <llhttp.h>
#endif

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys::server;
using sensorsys::fuzz::require;

struct Decoded {
    std::string body;
    std::size_t consumed = 0;
    bool done = false;
    bool failed = false;
};

// Pieces of 1 to 8 bytes chosen by the input itself (step 0: all at once).
Decoded decode(std::string_view in, bool small) {
    ChunkedDecoder d;
    Decoded out;
    std::size_t i = 0;
    while (i < in.size() && !d.done() && !d.failed()) {
        const std::size_t piece = small ? 1 + static_cast<unsigned char>(in[i]) % 8 : in.size();
        const auto window = in.substr(i, piece);
        const auto p = d.next(window, small ? 3 : window.size());
        out.body += p.data;
        i += p.consumed;
        if (p.consumed == 0 && p.data.empty()) break;
    }
    out.consumed = i;
    out.done = d.done();
    out.failed = d.failed();
    return out;
}

void checkCanonical(const RequestHead& head, HeadLimits limits) {
    // The canonical head states Host and Connection even when the request did not.
    limits.maxFields += 2;
    limits.maxHeadBytes += 64;
    const std::string canonical = head.canonical();
    for (std::size_t i = 0; i < canonical.size(); ++i) {
        if (canonical[i] == '\n' || canonical[i] == '\r') {
            const bool lineEnd = canonical[i] == '\r'
                                     ? i + 1 < canonical.size() && canonical[i + 1] == '\n'
                                     : i > 0 && canonical[i - 1] == '\r';
            require(lineEnd, "bare CR or LF in the canonical head", canonical);
        }
    }
    const HeadScan scan = scanHead(canonical, limits);
    require(scan.state == HeadState::Complete && scan.headBytes == canonical.size(),
            "the canonical head does not scan as one complete head", canonical);
    const HeadParse again = parseHead(canonical, limits);
    require(again.ok, "the canonical head is refused", again.error.reason + "\n" + canonical);
    const auto& h = again.head;
    require(h.method == head.method && h.target == head.target &&
                h.minorVersion == head.minorVersion && h.host == head.host &&
                h.keepAlive == head.keepAlive,
            "the canonical head means something else", canonical);
    if (head.framing == BodyFraming::Length) {
        require(h.framing == BodyFraming::Length && h.contentLength == head.contentLength,
                "the canonical head lost its Content-Length", canonical);
    }
}

// Where our framing says the first request ends; nullopt when it refuses it or needs more.
std::optional<std::size_t> ourEnd(std::string_view in, const HeadLimits& limits) {
    const HeadScan scan = scanHead(in, limits);
    if (scan.state != HeadState::Complete) return std::nullopt;
    const HeadParse parsed = parseHead(in.substr(0, scan.headBytes), limits);
    if (!parsed.ok) return std::nullopt;
    const auto rest = in.substr(scan.headBytes);
    switch (parsed.head.framing) {
        case BodyFraming::None:
            return scan.headBytes;
        case BodyFraming::Length:
            if (rest.size() < static_cast<std::size_t>(parsed.head.contentLength)) {
                return std::nullopt;
            }
            return scan.headBytes + static_cast<std::size_t>(parsed.head.contentLength);
        case BodyFraming::Chunked: {
            const Decoded body = decode(rest, false);
            if (!body.done) return std::nullopt;
            return scan.headBytes + body.consumed;
        }
    }
    return std::nullopt;
}

#ifdef SENSORSYS_HAVE_LLHTTP
// Where llhttp says the first request ends; nullopt when it refuses it or needs more.
std::optional<std::size_t> llhttpEnd(std::string_view in) {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    // Pausing in on_message_complete stops llhttp right after the request's last byte.
    settings.on_message_complete = [](llhttp_t*) { return static_cast<int>(HPE_PAUSED); };
    llhttp_t parser;
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    if (llhttp_execute(&parser, in.data(), in.size()) != HPE_PAUSED) return std::nullopt;
    return static_cast<std::size_t>(llhttp_get_error_pos(&parser) - in.data());
}

void checkAgainstLlhttp(std::string_view in, const HeadLimits& limits) {
    const auto ours = ourEnd(in, limits);
    const auto theirs = llhttpEnd(in);
    if (ours && theirs) {
        require(*ours == *theirs, "our framing and llhttp end the request at different bytes",
                std::to_string(*ours) + " vs " + std::to_string(*theirs));
    }
}
#else
void checkAgainstLlhttp(std::string_view, const HeadLimits&) {}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const HeadLimits limits;
    const HeadScan whole = scanHead(input, limits);
    checkAgainstLlhttp(input, limits);
    for (std::size_t cut = 0; cut < size; cut += 1 + cut / 4) {
        const HeadScan prefix = scanHead(input.substr(0, cut), limits);
        if (prefix.state == HeadState::Invalid) {
            require(whole.state == HeadState::Invalid, "an invalid prefix became valid");
        }
        if (prefix.state == HeadState::Complete) {
            require(whole.state == HeadState::Complete && whole.headBytes == prefix.headBytes,
                    "a complete head ended elsewhere with more bytes");
        }
    }
    if (whole.state == HeadState::Invalid) {
        const int s = whole.error.status;
        require(s == 400 || s == 414 || s == 431 || s == 501 || s == 505, "unexpected status");
    }
    if (whole.state != HeadState::Complete) return 0;
    const HeadParse parsed = parseHead(input.substr(0, whole.headBytes), limits);
    if (!parsed.ok) return 0;
    checkCanonical(parsed.head, limits);
    if (parsed.head.framing == BodyFraming::Chunked) {
        const auto body = input.substr(whole.headBytes);
        const Decoded a = decode(body, false);
        const Decoded b = decode(body, true);
        require(a.done == b.done && a.failed == b.failed, "chunked: pieces change the outcome");
        if (a.done) {
            require(a.body == b.body && a.consumed == b.consumed,
                    "chunked: pieces change the body or where it ends");
        }
    }
    return 0;
}
