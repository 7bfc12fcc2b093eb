// The strict framing layer between a client's socket and POCO's HTTP request/response objects.
// It reads each header section itself (bounded buffer, whole-section deadline), validates it
// with http_framing.h, and then presents POCO's parser with a canonical copy of the head and
// the decoded body, ending in end-of-stream exactly where the body ends: POCO never sees the
// raw bytes, so it cannot frame them differently. Sends are bounded by a deadline; a body
// slower than a minimum rate is cut; a lingering close is bounded in bytes and time.
//
// POCO reaches it as a StreamSocketImpl (its sockets are handles to such an implementation);
// one per connection, used by that connection's thread only (shutdown() may come from the
// stopping thread; it only forwards to the real socket).
#pragma once

#include "http_framing.hpp"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sensorsys::server {

struct FramingSettings {
    HeadLimits limits;
    std::chrono::milliseconds headerTimeout{10000};  // the whole header section
    std::int64_t minBodyRate = 1024;                 // bytes/s, after headerTimeout of grace
    std::chrono::milliseconds sendTimeout{30000};    // each send of a response part
    std::chrono::milliseconds lingerTime{2000};      // reading after an early close
    std::size_t lingerBytes = 1024 * 1024;
};

class FramedSocketImpl : public Poco::Net::StreamSocketImpl {
  public:
    using Clock = std::chrono::steady_clock;

    FramedSocketImpl(const Poco::Net::StreamSocket& real, FramingSettings settings);

    enum class HeadResult {
        Ready,     // head() is valid; POCO may now read the request through this socket
        Closed,    // the client closed (or broke) the connection between requests
        Rejected,  // rejection() says what to answer; the connection then closes
    };
    // Reads the next header section; it must be complete within headerTimeout.
    HeadResult readHead();
    const RequestHead& head() const { return _head; }
    const FramingError& rejection() const { return _rejection; }
    // Reads what the socket holds without waiting (at most a header section's worth more).
    // False when the client closed or broke the connection.
    bool pullAvailable();
    // The buffered bytes hold a complete header section, or enough to refuse one.
    bool headReady() const;
    // Bytes of a next (pipelined) request already read.
    bool hasBufferedInput() const { return _pos < _in.size(); }
    // Frees the input buffer when it holds nothing: a connection waiting in the poller keeps
    // no read buffer (1,000 idle clients would otherwise hold 16 KiB each).
    void releaseIdleBuffer();
    // The bytes received after the current request's head (a connection handed to the live
    // hub takes them along).
    std::string takeBuffered() {
        std::string rest(unread());
        _in.clear();
        _pos = 0;
        return rest;
    }
    // After the handler: reads what it left of the body (a little at most) so the next request
    // starts at its first byte. False when the connection must close instead.
    bool finishRequest();
    // Body bytes the current request delivered so far (after de-chunking).
    std::int64_t bodyBytes() const { return _bodyDelivered; }
    // Bytes sent since the request's head was read.
    std::int64_t sentBytes() const { return _sent; }
    // Answers OPTIONS * (about the server as a whole, RFC 9110 §9.3.7); never reaches the API.
    void answerServerOptions();
    // Answers a rejected request (JSON error, Connection: close) and closes lingeringly.
    void reject(const FramingError& error);
    // The header section's deadline passed: 408 in one non-blocking send, no lingering (the
    // poller calls it; a slowloris client must not cost a worker).
    void answerTimeoutNow();
    // Sends a complete JSON answer with Connection: close, then closes lingeringly.
    void answerAndClose(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body);

    // StreamSocketImpl, as POCO's session and the request handler use it.
    using Poco::Net::StreamSocketImpl::receiveBytes;
    using Poco::Net::StreamSocketImpl::sendBytes;
    int receiveBytes(void* buffer, int length, int flags = 0) override;
    int sendBytes(const void* buffer, int length, int flags = 0) override;
    void shutdownSend() override;
    void shutdown() override;
    void close() override {}  // the connection closes the real socket, once
    void setReceiveTimeout(const Poco::Timespan&) override {}
    void setSendTimeout(const Poco::Timespan&) override {}
    int available() override;
    Poco::Net::SocketAddress address() override;
    Poco::Net::SocketAddress peerAddress() override;

  private:
    enum class Phase { Idle, Head, Body, Linger };
    enum class Fill { Data, Eof, Timeout };

    // Reads more raw bytes into _in, waiting until deadline.
    Fill fill(Clock::time_point deadline);
    bool waitFor(short events, Clock::time_point deadline);
    HeadResult rejectHead(int status, std::string reason);
    void sendAll(const std::string& bytes);
    void startBody();
    int readBody(char* out, int length);
    int readChunked(char* out, int length);
    void fillBody();
    [[noreturn]] void failBody(const std::string& why);
    int readLinger(char* out, int length);
    std::string_view unread() const { return std::string_view(_in).substr(_pos); }
    void consume(std::size_t n);

    Poco::Net::StreamSocket _real;
    int _fd;
    FramingSettings _settings;
    std::string _in;
    std::size_t _pos = 0;
    Phase _phase = Phase::Idle;
    RequestHead _head;
    FramingError _rejection;
    std::string _canonical;
    std::size_t _canonicalPos = 0;
    std::int64_t _bodyLeft = 0;
    ChunkedDecoder _chunked;
    bool _bodyFailed = false;
    std::string _bodyError;
    Clock::time_point _bodyStart;
    std::int64_t _bodyRaw = 0;
    std::int64_t _bodyDelivered = 0;
    std::int64_t _sent = 0;
    Clock::time_point _lingerUntil;
    std::size_t _lingered = 0;
};

}  // namespace sensorsys::server
