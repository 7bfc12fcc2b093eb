#include "api_connection.h"

#include "framed_socket.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timestamp.h>

#include <malloc.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>

namespace sensorsys::server {

namespace {

constexpr std::int64_t kTrimAfterBodyBytes = 1024 * 1024;

// Like POCO's: status line and Connection: close, no body; the connection ends after it.
void sendErrorResponse(Poco::Net::HTTPServerSession& session,
                       Poco::Net::HTTPResponse::HTTPStatus status) {
    try {
        Poco::Net::HTTPServerResponseImpl response(session);
        response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
        response.setStatusAndReason(status);
        response.setKeepAlive(false);
        response.send();
    } catch (const Poco::Exception&) {
        // the client is gone
    }
}

}  // namespace

ApiConnectionFactory::ApiConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                                           const ServerConfig& config, ApiService& service,
                                           Poco::Logger& logger)
    : _params(std::move(params)),
      _config(config),
      _service(service),
      _logger(logger),
      _serverHeader(_params->getSoftwareVersion()) {
    _framing.headerTimeout = std::chrono::seconds(config.headerTimeoutSeconds);
    _framing.minBodyRate = config.minBodyRate;
    _framing.sendTimeout = std::chrono::seconds(config.sendTimeoutSeconds);
}

Poco::Net::TCPServerConnection* ApiConnectionFactory::createConnection(
    const Poco::Net::StreamSocket& socket) {
    // TCPServer takes ownership of the raw pointer (POCO's interface).
    return std::make_unique<ApiConnection>(socket, *this).release();
}

void ApiConnectionFactory::stopAll(bool abortCurrent) {
    std::lock_guard lock(_mutex);
    _stopped = true;
    for (ApiConnection* connection : _live) connection->stop(abortCurrent);
}

ApiConnectionFactory::Registration::Registration(ApiConnectionFactory& factory,
                                                 ApiConnection& connection)
    : _factory(factory), _connection(connection) {
    std::lock_guard lock(_factory._mutex);
    _accepted = !_factory._stopped;
    if (_accepted) _factory._live.insert(&_connection);
}

ApiConnectionFactory::Registration::~Registration() {
    std::lock_guard lock(_factory._mutex);
    _factory._live.erase(&_connection);
}

ApiConnection::ApiConnection(const Poco::Net::StreamSocket& socket, ApiConnectionFactory& factory)
    : TCPServerConnection(socket),
      _factory(factory),
      _handler(factory._config, factory._service, factory._logger) {}

void ApiConnection::run() {
    const auto& params = *_factory._params;
    // Keep-alive clients must never wait for a delayed ACK (Nagle) on a second write, e.g.
    // chunked streaming. Once per connection: the option stays set on the socket.
    try {
        socket().setNoDelay(true);
    } catch (const Poco::Exception&) {
        return;  // the client is already gone
    }
    // POCO's request and response see the client through the framing layer only. The socket
    // handle owns the implementation (POCO's interface takes it as a pointer).
    Poco::Net::StreamSocket framed(
        std::make_unique<FramedSocketImpl>(socket(), _factory._framing).release());
    auto& input = static_cast<FramedSocketImpl&>(*framed.impl());
    const ApiConnectionFactory::Registration registration(_factory, *this);
    if (!registration.accepted()) return;  // the server stopped before this connection started
    // The first request may take the session timeout to arrive, later ones the keep-alive one.
    Poco::Timespan timeout = params.getTimeout();
    for (std::int64_t number = 1;; ++number) {
        // A pipelined request may already sit in the input buffer with nothing more to come
        // on the socket: waiting for the socket would stall it until the timeout.
        if (!input.hasBufferedInput() && !waitForRequest(timeout)) break;
        if (!beginRequest()) break;
        const bool keepAlive = serveRequest(framed, input, number);
        if (!endRequest() || !keepAlive) break;
        timeout = params.getKeepAliveTimeout();
    }
}

bool ApiConnection::waitForRequest(const Poco::Timespan& timeout) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.totalMicroseconds());
    pollfd fd{};
    fd.fd = socket().impl()->sockfd();
    fd.events = POLLIN;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        const int rc = ::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        // Readable, or hung up: reading the request then finds the end of the connection.
        if (rc > 0) return (fd.revents & (POLLERR | POLLNVAL)) == 0;
        if (rc == 0) return false;
        if (errno != EINTR) return false;
    }
}

bool ApiConnection::beginRequest() {
    std::lock_guard lock(_mutex);
    if (_stopped) return false;
    _busy = true;
    return true;
}

bool ApiConnection::endRequest() {
    std::lock_guard lock(_mutex);
    _busy = false;
    return !_stopped;
}

bool ApiConnection::serveRequest(Poco::Net::StreamSocket& framed, FramedSocketImpl& input,
                                 std::int64_t number) {
    switch (input.readHead()) {
        case FramedSocketImpl::HeadResult::Closed:
            return false;
        case FramedSocketImpl::HeadResult::Rejected:
            if (_factory._config.logRequests && _factory._logger.information()) {
                _factory._logger.information("request refused: %d %s", input.rejection().status,
                                             escapeForLog(input.rejection().reason));
            }
            input.reject(input.rejection());
            return false;
        case FramedSocketImpl::HeadResult::Ready:
            break;
    }
    bool keepAlive = false;
    if (input.head().target == "*") {
        try {
            input.answerServerOptions();
            keepAlive = input.head().keepAlive;
        } catch (const Poco::Exception&) {
            return false;  // the client is gone
        }
    } else {
        keepAlive = handleRequest(framed, number);
    }
    // Also when the handler did not read the body: the next request starts after it.
    keepAlive = input.finishRequest() && keepAlive;
    // A big body (and what was parsed from it) leaves glibc's heap grown; give it back so the
    // resident size returns near where it was instead of staying at its peak.
    if (input.bodyBytes() > kTrimAfterBodyBytes) ::malloc_trim(0);
    return keepAlive;
}

bool ApiConnection::handleRequest(Poco::Net::StreamSocket& framed, std::int64_t number) {
    const auto& params = *_factory._params;
    // As POCO counts: with a limit of N requests per connection, the Nth answer says close.
    const int maxRequests = params.getMaxKeepAliveRequests();
    const bool mayKeepAlive = params.getKeepAlive() && (maxRequests <= 0 || number < maxRequests);
    Poco::Net::HTTPServerSession session(framed, _factory._params);
    try {
        // Declared in this order, the response outlives the request and its destructor sends
        // what the handler left buffered (header and body in one write).
        Poco::Net::HTTPServerResponseImpl response(session);
        // Parses the canonical head the framing layer validated.
        Poco::Net::HTTPServerRequestImpl request(response, session, _factory._params.get());
        response.setDate(Poco::Timestamp());
        response.setVersion(request.getVersion());
        response.setKeepAlive(mayKeepAlive && request.getKeepAlive());
        if (!_factory._serverHeader.empty()) response.set("Server", _factory._serverHeader);
        if (request.getExpectContinue() &&
            response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
            response.sendContinue();
        }
        try {
            _handler.handleRequest(request, response);
        } catch (...) {
            // handleRequest catches what it can report; what still escapes ends the connection.
            if (!response.sent()) {
                sendErrorResponse(session, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
            }
            _factory._logger.error("request %s %s escaped the handler; closing the connection",
                                   request.getMethod(), escapeForLog(request.getURI()));
            return false;
        }
        return mayKeepAlive && response.getKeepAlive();
    } catch (const Poco::Net::NoMessageException&) {
        return false;
    } catch (const Poco::Net::MessageException&) {
        sendErrorResponse(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        return false;
    } catch (const Poco::Exception&) {
        // A send timed out or the connection broke: nothing to answer.
        return false;
    }
}

void ApiConnection::stop(bool abortCurrent) {
    std::lock_guard lock(_mutex);
    _stopped = true;
    // Idle: waiting for the next request (or about to). Shutting the socket down wakes the
    // wait; a request in progress is left to finish unless the server is aborting.
    if (abortCurrent || !_busy) shutdownSocket();
}

void ApiConnection::shutdownSocket() {
    try {
        socket().shutdown();
    } catch (const Poco::Exception&) {
        // not connected any more: nothing to wake
    }
}

}  // namespace sensorsys::server
