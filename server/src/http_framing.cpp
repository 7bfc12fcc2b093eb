#include "http_framing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

namespace sensorsys::server {

namespace {

constexpr std::size_t kMaxMethodBytes = 32;
constexpr std::size_t kMaxChunkLineBytes = 4096;
constexpr std::size_t kMaxTrailerBytes = 8192;

// CONNECT (tunnels) and unknown methods get 501: this server implements neither.
constexpr std::array<std::string_view, 8> kMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                      "PATCH", "DELETE", "OPTIONS", "TRACE"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool isFieldValueChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

FramingError error(int status, std::string reason) {
    return FramingError{status, std::move(reason)};
}

// A field line (RFC 9112 §5): token ":" OWS value OWS; nullptr when fine, else why not.
const char* checkFieldLine(std::string_view line, std::string_view& name, std::string_view& value) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
        return "header line folded onto a continuation line (obs-fold)";
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without a colon";
    name = line.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar))
        return "header field name is not a token (whitespace before the colon?)";
    value = trimOws(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(), isFieldValueChar))
        return "control character in a header field value";
    return nullptr;
}

bool isTargetChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '#';
}

bool isHostChar(char c) {
    return isTokenChar(c) || c == ':' || c == '[' || c == ']' || c == ',' || c == ';' || c == '=' ||
           c == '(' || c == ')';
}

// Reduces an absolute-form target to origin-form; host receives its authority.
bool reduceAbsoluteForm(std::string& target, std::string& host) {
    const auto scheme = target.find("://");
    if (scheme == std::string::npos) return false;
    const std::string_view name(target.data(), scheme);
    if (!equalsIgnoreCase(name, "http") && !equalsIgnoreCase(name, "https")) return false;
    const auto start = scheme + 3;
    auto end = target.find_first_of("/?", start);
    if (end == std::string::npos) end = target.size();
    host = target.substr(start, end - start);
    if (host.empty() || !std::all_of(host.begin(), host.end(), isHostChar)) return false;
    std::string rest = target.substr(end);
    target = rest.empty() || rest.front() == '?' ? "/" + rest : rest;
    return true;
}

std::optional<FramingError> parseVersion(std::string_view version, RequestHead& head) {
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        !std::isdigit(static_cast<unsigned char>(version[5])) ||
        !std::isdigit(static_cast<unsigned char>(version[7]))) {
        return error(400, "request line without a valid HTTP version");
    }
    if (version[5] != '1') return error(505, "HTTP version not supported");
    // RFC 9110 §2.5: a higher minor version is served as the highest one implemented.
    head.minorVersion = version[7] == '0' ? 0 : 1;
    return std::nullopt;
}

std::optional<FramingError> parseTarget(RequestHead& head, std::string& absoluteHost) {
    if (!std::all_of(head.target.begin(), head.target.end(), isTargetChar))
        return error(400, "request target holds a character that is not allowed");
    if (head.target == "*") {
        if (head.method != "OPTIONS") return error(400, "asterisk-form target outside OPTIONS");
        return std::nullopt;
    }
    if (head.target.front() == '/') return std::nullopt;
    if (!reduceAbsoluteForm(head.target, absoluteHost))
        return error(400, "request target is neither origin-form nor absolute-form");
    return std::nullopt;
}

// method SP request-target SP HTTP-version, nothing else.
std::optional<FramingError> parseRequestLine(std::string_view line, const HeadLimits& limits,
                                             RequestHead& head, std::string& absoluteHost) {
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return error(400, "request line is not 'method target version'");
    }
    if (auto e = parseVersion(line.substr(sp2 + 1), head)) return e;
    head.method = std::string(line.substr(0, sp1));
    head.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    if (head.target.size() > limits.maxTargetBytes) return error(414, "request target too long");
    if (head.method.empty() || !std::all_of(head.method.begin(), head.method.end(), isTokenChar))
        return error(400, "method is not a token");
    if (std::find(kMethods.begin(), kMethods.end(), head.method) == kMethods.end())
        return error(501, "method not implemented");
    if (head.target.empty()) return error(400, "empty request target");
    return parseTarget(head, absoluteHost);
}

// Leading empty lines before a request line are ignored (RFC 9112 §2.2).
std::size_t skipEmptyLines(std::string_view data) {
    std::size_t i = 0;
    while (i + 1 < data.size() && data[i] == '\r' && data[i + 1] == '\n') i += 2;
    return i;
}

std::optional<FramingError> checkLineEnds(std::string_view data, std::size_t from) {
    for (std::size_t k = std::max<std::size_t>(from, 1); k < data.size(); ++k) {
        if (data[k] == '\n' && data[k - 1] != '\r') return error(400, "line ended by a bare LF");
        if (data[k - 1] == '\r' && data[k] != '\n') return error(400, "bare CR in the header");
    }
    return std::nullopt;
}

std::optional<FramingError> scanRequestLine(std::string_view data, std::size_t start,
                                            const HeadLimits& limits, std::size_t& lineEnd) {
    std::size_t j = start;
    // A CR alone at the end may be the first half of one more empty line before the request.
    if (j + 1 == data.size() && data[j] == '\r') return std::nullopt;
    while (j < data.size() && isTokenChar(data[j])) ++j;
    if (j < data.size() && (data[j] != ' ' || j == start))
        return error(400, "method is not a token");
    if (j - start > kMaxMethodBytes) return error(501, "method not implemented");
    lineEnd = data.find('\n', start);
    if (lineEnd == std::string_view::npos) {
        if (data.size() - start > limits.maxTargetBytes + kMaxMethodBytes + 16)
            return error(414, "request target too long");
        return std::nullopt;
    }
    if (lineEnd == start || data[lineEnd - 1] != '\r') return error(400, "line ended by a bare LF");
    RequestHead head;
    std::string host;
    return parseRequestLine(data.substr(start, lineEnd - 1 - start), limits, head, host);
}

std::optional<FramingError> parseContentLength(const std::vector<std::string_view>& values,
                                               std::int64_t& length) {
    if (values.size() > 1) return error(400, "repeated Content-Length");
    const std::string_view v = values.front();
    if (v.empty() || v.size() > 18 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return error(400, "Content-Length is not a non-negative decimal number");
    }
    length = 0;
    for (char c : v) length = length * 10 + (c - '0');
    return std::nullopt;
}

// Elements of a comma-separated field list (empty elements dropped, RFC 9110 §5.6.1).
std::vector<std::string_view> listElements(const std::vector<std::string_view>& values) {
    std::vector<std::string_view> out;
    for (std::string_view v : values) {
        std::size_t pos = 0;
        while (pos <= v.size()) {
            auto comma = v.find(',', pos);
            if (comma == std::string_view::npos) comma = v.size();
            const auto element = trimOws(v.substr(pos, comma - pos));
            if (!element.empty()) out.push_back(element);
            pos = comma + 1;
        }
    }
    return out;
}

std::optional<FramingError> parseTransferEncoding(const std::vector<std::string_view>& values) {
    const auto codings = listElements(values);
    if (codings.empty() || !equalsIgnoreCase(codings.back(), "chunked"))
        return error(400, "Transfer-Encoding does not end with chunked");
    for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
        if (equalsIgnoreCase(codings[i], "chunked")) return error(400, "chunked applied twice");
    }
    if (codings.size() > 1) return error(501, "transfer coding not implemented");
    return std::nullopt;
}

struct FieldsSeen {
    std::vector<std::string_view> host, contentLength, transferEncoding, connection, authorization;
};

void collect(FieldsSeen& seen, std::string_view name, std::string_view value) {
    if (equalsIgnoreCase(name, "Host")) seen.host.push_back(value);
    if (equalsIgnoreCase(name, "Content-Length")) seen.contentLength.push_back(value);
    if (equalsIgnoreCase(name, "Transfer-Encoding")) seen.transferEncoding.push_back(value);
    if (equalsIgnoreCase(name, "Connection")) seen.connection.push_back(value);
    if (equalsIgnoreCase(name, "Authorization")) seen.authorization.push_back(value);
}

std::optional<FramingError> decideHost(const FieldsSeen& seen, const std::string& absoluteHost,
                                       RequestHead& head) {
    if (seen.host.size() > 1) return error(400, "repeated Host");
    if (seen.host.empty() && head.minorVersion == 1) return error(400, "missing Host");
    if (!seen.host.empty()) {
        const auto h = seen.host.front();
        if (!std::all_of(h.begin(), h.end(), isHostChar)) return error(400, "invalid Host");
        head.host = std::string(h);
    }
    // RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host.
    if (!absoluteHost.empty()) head.host = absoluteHost;
    return std::nullopt;
}

std::optional<FramingError> decideFraming(const FieldsSeen& seen, RequestHead& head) {
    if (!seen.transferEncoding.empty()) {
        if (head.minorVersion == 0) return error(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (!seen.contentLength.empty())
            return error(400, "both Content-Length and Transfer-Encoding");
        if (auto e = parseTransferEncoding(seen.transferEncoding)) return e;
        head.framing = BodyFraming::Chunked;
    } else if (!seen.contentLength.empty()) {
        if (auto e = parseContentLength(seen.contentLength, head.contentLength)) return e;
        head.framing = BodyFraming::Length;
    }
    if (seen.authorization.size() > 1) return error(400, "repeated Authorization");
    bool close = false, keepAlive = false;
    for (std::string_view option : listElements(seen.connection)) {
        close = close || equalsIgnoreCase(option, "close");
        keepAlive = keepAlive || equalsIgnoreCase(option, "keep-alive");
    }
    head.keepAlive = !close && (head.minorVersion == 1 || keepAlive);
    return std::nullopt;
}

std::optional<FramingError> parseFields(std::string_view rest, const HeadLimits& limits,
                                        RequestHead& head, FieldsSeen& seen) {
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 2);
        if (line.empty()) break;
        std::string_view name, value;
        if (line.size() > limits.maxFieldBytes) return error(431, "header field too large");
        if (const char* why = checkFieldLine(line, name, value)) return error(400, why);
        if (name.size() > limits.maxFieldNameBytes) return error(431, "header field too large");
        if (head.fields.size() == limits.maxFields) return error(431, "too many header fields");
        collect(seen, name, value);
        head.fields.emplace_back(std::string(name), std::string(value));
    }
    return std::nullopt;
}

}  // namespace

bool isTokenChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= '0' && u <= '9') return true;
    if ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos && u != 0;
}

HeadScan scanHead(std::string_view data, const HeadLimits& limits) {
    HeadScan scan;
    const std::size_t start = skipEmptyLines(data);
    const auto fail = [&scan](FramingError e) {
        scan.state = HeadState::Invalid;
        scan.error = std::move(e);
        return scan;
    };
    if (start < data.size() && data[start] == '\n')
        return fail(error(400, "line ended by a bare LF"));
    std::size_t lineEnd = std::string_view::npos;
    if (auto e = scanRequestLine(data, start, limits, lineEnd)) return fail(*e);
    const auto end =
        lineEnd == std::string_view::npos ? lineEnd : data.find("\r\n\r\n", lineEnd - 1);
    // Only the header section: a pipelined body after it may hold any bytes.
    const auto headEnd = end == std::string_view::npos ? data.size() : end + 4;
    if (auto e = checkLineEnds(data.substr(0, headEnd), start)) return fail(*e);
    if (headEnd - start > limits.maxHeadBytes) return fail(error(431, "header section too large"));
    if (end != std::string_view::npos) {
        scan.state = HeadState::Complete;
        scan.headBytes = headEnd;
    }
    return scan;
}

HeadParse parseHead(std::string_view head, const HeadLimits& limits) {
    HeadParse result;
    const auto fail = [&result](FramingError e) {
        result.error = std::move(e);
        return result;
    };
    head.remove_prefix(skipEmptyLines(head));
    const auto lineEnd = head.find("\r\n");
    if (lineEnd == std::string_view::npos) return fail(error(400, "no request line"));
    std::string absoluteHost;
    if (auto e = parseRequestLine(head.substr(0, lineEnd), limits, result.head, absoluteHost))
        return fail(*e);
    FieldsSeen seen;
    if (auto e = parseFields(head.substr(lineEnd + 2), limits, result.head, seen)) return fail(*e);
    if (auto e = decideHost(seen, absoluteHost, result.head)) return fail(*e);
    if (auto e = decideFraming(seen, result.head)) return fail(*e);
    result.ok = true;
    return result;
}

std::string RequestHead::canonical() const {
    std::string out =
        method + " " + target + (minorVersion == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    out += "Host: " + host + "\r\n";
    for (const auto& [name, value] : fields) {
        if (equalsIgnoreCase(name, "Host") || equalsIgnoreCase(name, "Transfer-Encoding") ||
            equalsIgnoreCase(name, "Connection")) {
            continue;
        }
        out += name + ": " + value + "\r\n";
    }
    out += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return out;
}

void ChunkedDecoder::fail(const char* why) {
    _state = State::Failed;
    _error = why;
}

bool ChunkedDecoder::stepSize(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isxdigit(u)) {
        if (++_digits > 15) {
            fail("chunk size too large");
            return false;
        }
        _size = _size * 16 +
                static_cast<std::uint64_t>(std::isdigit(u) ? u - '0' : (u | 0x20) - 'a' + 10);
        return true;
    }
    if (_digits == 0) {
        fail("chunk size is not a hexadecimal number");
        return false;
    }
    if (c == '\r') {
        _state = State::SizeLf;
    } else if (c == ';' || c == ' ' || c == '\t') {
        _state = State::Ext;
        _lineBytes = 0;
        _extStarted = c == ';';
    } else {
        fail("chunk size is not a hexadecimal number");
        return false;
    }
    return true;
}

bool ChunkedDecoder::stepTrailer(char c) {
    if (c == '\r') {
        _state = State::TrailerLf;
        return true;
    }
    if (c == '\n' || ++_trailerBytes > kMaxTrailerBytes) {
        fail(c == '\n' ? "bare LF in the chunked trailer" : "chunked trailer too large");
        return false;
    }
    _trailerLine.push_back(c);
    return true;
}

bool ChunkedDecoder::step(char c) {
    switch (_state) {
        case State::Size:
            return stepSize(c);
        case State::Ext: {
            const auto u = static_cast<unsigned char>(c);
            if (c == '\r') {
                _state = State::SizeLf;
                return true;
            }
            const bool blank = c == ' ' || c == '\t';
            _extStarted = _extStarted || c == ';';
            if ((u < 0x20 && c != '\t') || u == 0x7f || (!_extStarted && !blank) ||
                ++_lineBytes > kMaxChunkLineBytes) {
                fail("invalid chunk extension");
                return false;
            }
            return true;
        }
        case State::SizeLf:
            if (c != '\n') break;
            _state = _size == 0 ? State::Trailer : State::Data;
            _digits = 0;
            return true;
        case State::DataCr:
            if (c != '\r') break;
            _state = State::DataLf;
            return true;
        case State::DataLf:
            if (c != '\n') break;
            _state = State::Size;
            _size = 0;
            return true;
        case State::Trailer:
            return stepTrailer(c);
        case State::TrailerLf:
            return stepTrailerEnd(c);
        default:
            return false;
    }
    fail("chunk framing: CRLF expected");
    return false;
}

bool ChunkedDecoder::stepTrailerEnd(char c) {
    if (c != '\n') {
        fail("bare CR in the chunked trailer");
        return false;
    }
    if (_trailerLine.empty()) {
        _state = State::Done;
        return true;
    }
    std::string_view name, value;
    if (const char* why = checkFieldLine(_trailerLine, name, value)) {
        fail(why);
        return false;
    }
    _trailerLine.clear();
    _state = State::Trailer;
    return true;
}

ChunkedDecoder::Piece ChunkedDecoder::next(std::string_view in, std::size_t maxData) {
    Piece piece;
    std::size_t i = 0;
    while (i < in.size() && _state != State::Done && _state != State::Failed) {
        if (_state == State::Data) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>({in.size() - i, _size, maxData}));
            if (n == 0) break;
            piece.data = in.substr(i, n);
            i += n;
            _size -= n;
            if (_size == 0) _state = State::DataCr;
            break;
        }
        if (!step(in[i++])) break;
    }
    piece.consumed = i;
    return piece;
}

std::string escapeForLog(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace sensorsys::server
