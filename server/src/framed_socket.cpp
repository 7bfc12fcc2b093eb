#include "framed_socket.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sensorsys::server {

namespace {

constexpr std::size_t kReadChunk = 16384;
// What finishRequest reads of a body the handler left unread before it gives up and closes.
constexpr std::int64_t kMaxDrainBytes = 64 * 1024;

const char* reasonPhrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 414:
            return "URI Too Long";
        case 431:
            return "Request Header Fields Too Large";
        case 501:
            return "Not Implemented";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Error";
    }
}

std::string jsonString(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

FramedSocketImpl::FramedSocketImpl(const Poco::Net::StreamSocket& real, FramingSettings settings)
    : _real(real), _fd(real.impl()->sockfd()), _settings(std::move(settings)) {}

bool FramedSocketImpl::waitFor(short events, Clock::time_point deadline) {
    pollfd fd{};
    fd.fd = _fd;
    fd.events = events;
    for (;;) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        const int rc = ::poll(&fd, 1, static_cast<int>(std::clamp<std::int64_t>(left, 0, 1 << 30)));
        if (rc > 0) return true;  // ready, or an error the next call reports
        if (rc == 0) return false;
        if (errno != EINTR) return true;
    }
}

FramedSocketImpl::Fill FramedSocketImpl::fill(Clock::time_point deadline) {
    if (_pos > 0 && _pos == _in.size()) {
        _in.clear();
        _pos = 0;
    }
    const std::size_t old = _in.size();
    _in.resize(old + kReadChunk);
    for (;;) {
        const ssize_t n = ::recv(_fd, _in.data() + old, kReadChunk, MSG_DONTWAIT);
        if (n > 0) {
            _in.resize(old + static_cast<std::size_t>(n));
            return Fill::Data;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (waitFor(POLLIN, deadline)) continue;
            _in.resize(old);
            return Fill::Timeout;
        }
        _in.resize(old);
        return Fill::Eof;  // closed, or reset: either way nothing more comes
    }
}

bool FramedSocketImpl::pullAvailable() {
    while (_in.size() - _pos <= _settings.limits.maxHeadBytes) {
        const std::size_t old = _in.size();
        _in.resize(old + kReadChunk);
        const ssize_t n = ::recv(_fd, _in.data() + old, kReadChunk, MSG_DONTWAIT);
        _in.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        // A short read emptied the socket: asking again would only return EAGAIN (the
        // descriptor is level-triggered, so anything arriving later is seen anyway).
        if (n > 0 && static_cast<std::size_t>(n) < kReadChunk) return true;
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
}

void FramedSocketImpl::releaseIdleBuffer() {
    if (hasBufferedInput()) return;
    std::string().swap(_in);
    _pos = 0;
}

bool FramedSocketImpl::headReady() const {
    return scanHead(unread(), _settings.limits).state != HeadState::NeedMore;
}

void FramedSocketImpl::consume(std::size_t n) {
    _pos += n;
    if (_pos == _in.size()) {
        _in.clear();
        _pos = 0;
    }
}

FramedSocketImpl::HeadResult FramedSocketImpl::rejectHead(int status, std::string reason) {
    _rejection = FramingError{status, std::move(reason)};
    return HeadResult::Rejected;
}

FramedSocketImpl::HeadResult FramedSocketImpl::readHead() {
    _phase = Phase::Idle;
    _sent = 0;
    const auto deadline = Clock::now() + _settings.headerTimeout;
    for (;;) {
        const HeadScan scan = scanHead(unread(), _settings.limits);
        if (scan.state == HeadState::Invalid)
            return rejectHead(scan.error.status, scan.error.reason);
        if (scan.state == HeadState::Complete) {
            HeadParse parsed = parseHead(unread().substr(0, scan.headBytes), _settings.limits);
            consume(scan.headBytes);
            if (!parsed.ok) return rejectHead(parsed.error.status, parsed.error.reason);
            _head = std::move(parsed.head);
            _canonical = _head.canonical();
            _canonicalPos = 0;
            _phase = Phase::Head;
            return HeadResult::Ready;
        }
        const Fill got = fill(deadline);
        if (got == Fill::Timeout) return rejectHead(408, "header section not received in time");
        if (got == Fill::Eof) {
            const auto rest = unread();
            if (rest.find_first_not_of("\r\n") == std::string_view::npos) return HeadResult::Closed;
            return rejectHead(400, "connection closed within the header section");
        }
    }
}

void FramedSocketImpl::startBody() {
    _phase = Phase::Body;
    _bodyLeft = _head.framing == BodyFraming::Length ? _head.contentLength : 0;
    _chunked = ChunkedDecoder();
    _bodyFailed = false;
    _bodyStart = Clock::now();
    _bodyRaw = 0;
    _bodyDelivered = 0;
}

void FramedSocketImpl::failBody(const std::string& why) {
    _bodyFailed = true;
    _bodyError = why;
    throw Poco::Net::MessageException(why);
}

// The body may take headerTimeout plus one second per minBodyRate bytes received so far.
void FramedSocketImpl::fillBody() {
    const auto allowed = _settings.headerTimeout +
                         std::chrono::milliseconds(_bodyRaw * 1000 / _settings.minBodyRate);
    const std::size_t before = _in.size() - _pos;
    const Fill got = fill(_bodyStart + allowed);
    if (got == Fill::Eof) failBody("connection closed before the end of the body");
    if (got == Fill::Timeout) failBody("body slower than http.min_body_rate");
    _bodyRaw += static_cast<std::int64_t>(_in.size() - _pos - before);
}

int FramedSocketImpl::readChunked(char* out, int length) {
    for (;;) {
        if (_chunked.done()) return 0;
        const auto piece = _chunked.next(unread(), static_cast<std::size_t>(length));
        if (!piece.data.empty()) std::memcpy(out, piece.data.data(), piece.data.size());
        consume(piece.consumed);
        if (_chunked.failed()) failBody(_chunked.error());
        if (!piece.data.empty()) {
            _bodyDelivered += static_cast<std::int64_t>(piece.data.size());
            return static_cast<int>(piece.data.size());
        }
        if (!_chunked.done()) fillBody();
    }
}

int FramedSocketImpl::readBody(char* out, int length) {
    if (_bodyFailed) throw Poco::Net::MessageException(_bodyError);
    if (length <= 0) return 0;
    if (_head.framing == BodyFraming::Chunked) return readChunked(out, length);
    if (_bodyLeft == 0) return 0;
    if (!hasBufferedInput()) fillBody();
    const auto n = static_cast<std::size_t>(
        std::min<std::int64_t>({static_cast<std::int64_t>(_in.size() - _pos), _bodyLeft, length}));
    std::memcpy(out, _in.data() + _pos, n);
    consume(n);
    _bodyLeft -= static_cast<std::int64_t>(n);
    _bodyDelivered += static_cast<std::int64_t>(n);
    return static_cast<int>(n);
}

int FramedSocketImpl::receiveBytes(void* buffer, int length, int /*flags*/) {
    char* out = static_cast<char*>(buffer);
    if (_phase == Phase::Head) {
        const auto n = std::min<std::size_t>(_canonical.size() - _canonicalPos,
                                             static_cast<std::size_t>(std::max(length, 0)));
        std::memcpy(out, _canonical.data() + _canonicalPos, n);
        _canonicalPos += n;
        if (_canonicalPos == _canonical.size()) startBody();
        if (n > 0) return static_cast<int>(n);
    }
    if (_phase == Phase::Body) return readBody(out, length);
    if (_phase == Phase::Linger) return readLinger(out, length);
    return 0;
}

bool FramedSocketImpl::finishRequest() {
    if (_phase == Phase::Linger || _bodyFailed) return false;
    if (_phase == Phase::Head) startBody();  // POCO read the head and not a byte of the body
    char scratch[8192];
    std::int64_t drained = 0;
    try {
        while (drained <= kMaxDrainBytes) {
            const int n = readBody(scratch, sizeof scratch);
            if (n == 0) {
                _phase = Phase::Idle;
                return true;
            }
            drained += n;
        }
    } catch (const Poco::Exception&) {
        // a broken body: the connection closes
    }
    return false;
}

int FramedSocketImpl::sendBytes(const void* buffer, int length, int /*flags*/) {
    const char* data = static_cast<const char*>(buffer);
    const auto deadline = Clock::now() + _settings.sendTimeout;
    int sent = 0;
    while (sent < length) {
        const ssize_t n = ::send(_fd, data + sent, static_cast<std::size_t>(length - sent),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<int>(n);
            _sent += n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!waitFor(POLLOUT, deadline)) {
                // Closed with unsent bytes the client will never take, the socket would stay
                // in the kernel, retrying them; a reset frees it at once.
                const linger reset{1, 0};
                ::setsockopt(_fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
                throw Poco::TimeoutException("send timed out");
            }
        } else if (errno != EINTR) {
            throw Poco::Net::ConnectionResetException("send failed");
        }
    }
    return sent;
}

void FramedSocketImpl::shutdownSend() {
    try {
        _real.shutdownSend();
    } catch (const Poco::Exception&) {
        // not connected any more
    }
    _phase = Phase::Linger;
    _lingerUntil = Clock::now() + _settings.lingerTime;
    _lingered = 0;
}

void FramedSocketImpl::shutdown() {
    // POCO cannot send a body for HEAD, so a streamed answer "fails" after its complete head:
    // that is no reason to cut the connection.
    if (_head.method == "HEAD" && _phase != Phase::Linger) return;
    try {
        _real.shutdown();
    } catch (const Poco::Exception&) {
        // reset by the client or after a send timed out: cut already
    }
}

int FramedSocketImpl::readLinger(char* out, int length) {
    (void)out;
    while (_lingered < _settings.lingerBytes && Clock::now() < _lingerUntil) {
        if (hasBufferedInput()) {
            const std::size_t n = _in.size() - _pos;
            _lingered += n;
            consume(n);
            // Nothing is copied: the caller only drains.
            return static_cast<int>(
                std::min<std::size_t>(n, static_cast<std::size_t>(std::max(length, 1))));
        }
        if (fill(_lingerUntil) != Fill::Data) return 0;
    }
    return 0;
}

void FramedSocketImpl::answerServerOptions() {
    sendAll(std::string("HTTP/1.1 200 OK\r\nAllow: GET, HEAD, POST\r\nContent-Length: 0\r\n") +
            (_head.keepAlive ? "\r\n" : "Connection: close\r\n\r\n"));
}

void FramedSocketImpl::sendAll(const std::string& bytes) {
    sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

void FramedSocketImpl::reject(const FramingError& error) {
    answerAndClose(error.status, {},
                   "{\"error\": " + jsonString(error.reason) + ", \"detail\": null}");
}

namespace {

std::string closingAnswer(int status,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
    std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) +
                           "\r\nContent-Type: application/json\r\n";
    for (const auto& [name, value] : headers) response += name + ": " + value + "\r\n";
    response +=
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return response;
}

}  // namespace

void FramedSocketImpl::answerAndClose(
    int status, const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) {
    try {
        sendAll(closingAnswer(status, headers, body));
    } catch (const Poco::Exception&) {
        return;  // the client is gone
    }
    shutdownSend();
    char scratch[8192];
    while (readLinger(scratch, sizeof scratch) > 0) {
    }
}

void FramedSocketImpl::answerTimeoutNow() {
    const std::string answer = closingAnswer(
        408, {}, "{\"error\": \"header section not received in time\", \"detail\": null}");
    // One try, never waiting: a client this slow gets the answer if its buffer has room.
    if (::send(_fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        return;  // closed without it
    }
    ::shutdown(_fd, SHUT_WR);
}

int FramedSocketImpl::available() {
    return static_cast<int>(_in.size() - _pos);
}

Poco::Net::SocketAddress FramedSocketImpl::address() {
    return _real.address();
}

Poco::Net::SocketAddress FramedSocketImpl::peerAddress() {
    return _real.peerAddress();
}

}  // namespace sensorsys::server
