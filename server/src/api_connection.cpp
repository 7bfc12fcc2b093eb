#include "api_connection.hpp"

#include "timestamp.hpp"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timestamp.h>

#include <malloc.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>

namespace sensorsys::server {

namespace {

constexpr std::int64_t kTrimAfterBytes = 1024 * 1024;
// How often the poller looks for connections past their deadline.
constexpr int kSweepMillis = 100;
constexpr int kMaxEvents = 256;
constexpr int kSendBufferBytes = 64 * 1024;
// A worker idle this long ends while more than http.min_threads are left: a burst of slow
// clients grows the pool, and its threads (their stacks and malloc caches) do not stay.
constexpr auto kWorkerIdle = std::chrono::seconds(10);
// How long a worker keeps a keep-alive connection after answering, waiting for its next request
// (in slices, so that a connection queued for a worker meanwhile ends the wait early).
constexpr int kLingerSlices = 3;
constexpr int kLingerSliceMillis = 1;

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

std::chrono::steady_clock::duration toDuration(const Poco::Timespan& span) {
    return std::chrono::microseconds(span.totalMicroseconds());
}

}  // namespace

ApiConnection::ApiConnection(const Poco::Net::StreamSocket& socket, ApiConnections& owner)
    : _owner(owner),
      _socket(socket),
      _fd(socket.impl()->sockfd()),
      // The socket handle owns the implementation (POCO's interface takes it as a pointer).
      _framed(std::make_unique<FramedSocketImpl>(socket, owner._framing).release()),
      _input(static_cast<FramedSocketImpl&>(*_framed.impl())),
      _handler(owner._config, owner._service, owner._logger) {}

void ApiConnection::abort() {
    try {
        _socket.shutdown();
    } catch (const Poco::Exception&) {
        // not connected any more: nothing to wake
    }
}

bool ApiConnection::serveRequest() {
    ++_served;
    const auto started = std::chrono::steady_clock::now();
    const auto seconds = [&started] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    switch (_input.readHead()) {
        case FramedSocketImpl::HeadResult::Closed:
            return false;
        case FramedSocketImpl::HeadResult::Rejected:
            if (_owner._config.logRequests && _owner._logger.information()) {
                _owner._logger.information("request refused: %d %s", _input.rejection().status,
                                           escapeForLog(_input.rejection().reason));
            }
            _input.reject(_input.rejection());
            _owner._service.metrics().recordRequest(Route::Unknown, _input.rejection().status,
                                                    seconds());
            return false;
        case FramedSocketImpl::HeadResult::Ready:
            break;
    }
    bool keepAlive = false;
    if (_input.head().target == "*") {
        try {
            _input.answerServerOptions();
            keepAlive = _input.head().keepAlive;
        } catch (const Poco::Exception&) {
            return false;  // the client is gone
        }
    } else if (refusedBeforeBody()) {
        return false;
    } else {
        keepAlive = handleRequest();
        if (auto live = _handler.takeLive()) {
            // A live client: the hub owns the connection from here; this one forgets it.
            _owner._service.liveHub()->adopt(_socket, _input.takeBuffered(), std::move(*live));
            return false;
        }
    }
    // Also when the handler did not read the body: the next request starts after it.
    keepAlive = _input.finishRequest() && keepAlive;
    // A big body or answer (and what was parsed or built for it) leaves glibc's heap grown;
    // give it back so the resident size returns near where it was instead of its peak.
    if (_input.bodyBytes() > kTrimAfterBytes || _input.sentBytes() > kTrimAfterBytes) {
        ::malloc_trim(0);
    }
    return keepAlive;
}

bool ApiConnection::refusedBeforeBody() {
    const RequestHead& head = _input.head();
    const auto& config = _owner._config;
    const bool hasBody = head.framing == BodyFraming::Chunked ||
                         (head.framing == BodyFraming::Length && head.contentLength > 0);
    if (!config.authEnabled || !hasBody) return false;
    const Headers headers(head.fields.begin(), head.fields.end());
    const RequestLimits limits{config.maxBodyBytes, config.maxBatch, config.maxPageRows,
                               config.maxFutureSeconds, config.seriesPoints};
    const ApiRequest request =
        parseRequest(_owner._service.routes(), head.method, head.target, headers, "", limits);
    if (!request.entry) return false;  // 400/404/405 come from the handler
    std::optional<ApiResponse> refusal;
    try {
        Principal principal{Scope::Admin, ""};
        refusal = _owner._service.checkAccess(request, principal);
    } catch (const std::exception&) {
        return false;  // the token cannot be checked now: the handler answers 503
    }
    if (!refusal) return false;
    _owner._service.metrics().recordRequest(request.route, refusal->status, 0.0);
    if (config.logRequests && _owner._logger.information()) {
        _owner._logger.information("%s %s %d before the body", head.method,
                                   escapeForLog(head.target.substr(0, 300)), refusal->status);
    }
    _input.answerAndClose(refusal->status, refusal->headers, refusal->body);
    return true;
}

bool ApiConnection::handleRequest() {
    const auto& params = *_owner._params;
    // As POCO counts: with a limit of N requests per connection, the Nth answer says close.
    const int maxRequests = params.getMaxKeepAliveRequests();
    const bool mayKeepAlive = params.getKeepAlive() && (maxRequests <= 0 || _served < maxRequests);
    Poco::Net::HTTPServerSession session(_framed, _owner._params);
    try {
        // Declared in this order, the response outlives the request and its destructor sends
        // what the handler left buffered (header and body in one write).
        Poco::Net::HTTPServerResponseImpl response(session);
        // Parses the canonical head the framing layer validated.
        Poco::Net::HTTPServerRequestImpl request(response, session, _owner._params.get());
        const Poco::Timestamp received;
        response.setDate(received);
        // The server's time with microseconds on every answer: an agent without a trusted
        // clock dates its readings by it (docs/contract.md, X-Server-Time).
        response.set("X-Server-Time", formatUtcForSql(received.epochMicroseconds()));
        response.setVersion(request.getVersion());
        response.setKeepAlive(mayKeepAlive && request.getKeepAlive());
        if (!_owner._serverHeader.empty()) response.set("Server", _owner._serverHeader);
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
            _owner._logger.error("request %s %s escaped the handler; closing the connection",
                                 request.getMethod(), escapeForLog(request.getURI()));
            return false;
        }
        return mayKeepAlive && response.getKeepAlive();
    } catch (const Poco::Net::MessageException&) {
        sendErrorResponse(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
        return false;
    } catch (const Poco::Exception&) {
        // A send timed out or the connection broke: nothing to answer.
        return false;
    }
}

ApiConnections::ApiConnections(const Poco::Net::ServerSocket& listening,
                               Poco::Net::HTTPServerParams::Ptr params, const ServerConfig& config,
                               ApiService& service, Poco::Logger& logger)
    : _listening(listening),
      _params(std::move(params)),
      _config(config),
      _service(service),
      _logger(logger),
      _serverHeader(_params->getSoftwareVersion()) {
    _framing.headerTimeout = std::chrono::seconds(config.headerTimeoutSeconds);
    _framing.minBodyRate = config.minBodyRate;
    _framing.sendTimeout = std::chrono::seconds(config.sendTimeoutSeconds);
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    _wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_epoll < 0 || _wake < 0) {
        throw std::system_error(errno, std::generic_category(), "epoll/eventfd");
    }
}

ApiConnections::~ApiConnections() {
    stop(std::chrono::seconds(0));
    ::close(_epoll);
    ::close(_wake);
}

void ApiConnections::start() {
    _listening.setBlocking(false);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = _listening.impl()->sockfd();
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, ev.data.fd, &ev);
    ev.data.fd = _wake;
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, _wake, &ev);
    {
        std::lock_guard lock(_mutex);
        for (int i = 0; i < _config.minThreads; ++i) addWorker();
    }
    _poller = std::thread([this] { pollLoop(); });
}

void ApiConnections::pollLoop() {
    const int listeningFd = _listening.impl()->sockfd();
    epoll_event events[kMaxEvents];
    auto nextSweep = std::chrono::steady_clock::now();
    for (;;) {
        const int n = ::epoll_wait(_epoll, events, kMaxEvents, kSweepMillis);
        {
            std::lock_guard lock(_mutex);
            if (_stopping) break;
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listeningFd) {
                acceptAll();
            } else if (fd != _wake) {
                onReadable(fd);
            }
        }
        if (std::chrono::steady_clock::now() >= nextSweep) {
            sweep();
            joinRetired();
            nextSweep = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSweepMillis);
        }
    }
    closeAllWaiting();
}

void ApiConnections::acceptAll() {
    for (;;) {
        Poco::Net::StreamSocket socket;
        try {
            // Non-blocking listening socket: throws once every pending connection is taken
            // (or on EMFILE and the like: tried again on the next event).
            socket = _listening.acceptConnection();
        } catch (const Poco::Exception&) {
            return;
        }
        {
            std::lock_guard lock(_mutex);
            if (_live >= static_cast<std::size_t>(_config.maxConnections)) continue;  // closed
            ++_live;
        }
        try {
            // Keep-alive clients must never wait for a delayed ACK (Nagle) on a second write.
            socket.setNoDelay(true);
            // A fixed send buffer instead of the kernel's autotuning (up to 4 MiB): a client
            // that stops reading holds at most this much kernel memory, and its answer stalls
            // (so http.send_timeout cuts it) before the server has built megabytes of it.
            socket.setSendBufferSize(kSendBufferBytes);
        } catch (const Poco::Exception&) {
            // the client is already gone; the first read finds out
        }
        park(std::make_shared<ApiConnection>(socket, *this), toDuration(_params->getTimeout()));
    }
}

void ApiConnections::park(Ptr connection, std::chrono::steady_clock::duration idle) {
    const bool partial = connection->input().hasBufferedInput();
    if (!partial) connection->input().releaseIdleBuffer();
    connection->waitUntil =
        std::chrono::steady_clock::now() +
        (partial ? std::chrono::steady_clock::duration(_framing.headerTimeout) : idle);
    std::lock_guard lock(_mutex);
    if (_stopping) {
        --_live;
        _drained.notify_all();
        return;  // closed as the last reference goes
    }
    const int fd = connection->fd();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    _waiting.emplace(fd, std::move(connection));
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev);
}

void ApiConnections::onReadable(int fd) {
    Ptr connection;
    {
        std::lock_guard lock(_mutex);
        const auto it = _waiting.find(fd);
        if (it == _waiting.end()) return;
        connection = it->second;
    }
    FramedSocketImpl& input = connection->input();
    const bool hadBytes = input.hasBufferedInput();
    const bool open = input.pullAvailable();
    // The header-section deadline runs from its first byte.
    if (!hadBytes && input.hasBufferedInput())
        connection->waitUntil = std::chrono::steady_clock::now() + _framing.headerTimeout;
    if (!input.headReady() && open) return;
    std::lock_guard lock(_mutex);
    ::epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, nullptr);
    _waiting.erase(fd);
    if (!open && !input.hasBufferedInput()) {
        --_live;  // closed by the client between requests
        return;
    }
    _queue.push_back(std::move(connection));
    wakeWorker();
}

void ApiConnections::sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(_mutex);
    for (auto it = _waiting.begin(); it != _waiting.end();) {
        ApiConnection& c = *it->second;
        if (c.waitUntil > now) {
            ++it;
            continue;
        }
        ::epoll_ctl(_epoll, EPOLL_CTL_DEL, it->first, nullptr);
        if (c.input().hasBufferedInput()) c.input().answerTimeoutNow();
        --_live;
        it = _waiting.erase(it);
    }
    _drained.notify_all();
}

void ApiConnections::addWorker() {
    std::thread worker([this] { work(); });
    const auto id = worker.get_id();
    _workers.emplace(id, std::move(worker));
}

void ApiConnections::wakeWorker() {
    // An idle worker already woken for an earlier queued connection still counts as idle until
    // it runs: each queued connection needs an idle worker of its own, else one worker blocked
    // in a slow client's send would hold up every connection queued behind it.
    if (_queue.size() > _idleWorkers &&
        _workers.size() < static_cast<std::size_t>(_config.maxThreads)) {
        addWorker();
    }
    _workReady.notify_one();
}

void ApiConnections::work() {
    for (;;) {
        Ptr connection;
        {
            std::unique_lock lock(_mutex);
            ++_idleWorkers;
            const bool woken =
                _workReady.wait_for(lock, kWorkerIdle, [this] { return _quit || !_queue.empty(); });
            --_idleWorkers;
            if (!woken) {
                if (_workers.size() <= static_cast<std::size_t>(_config.minThreads)) continue;
                // The poller joins it: a thread cannot join itself.
                const auto self = _workers.find(std::this_thread::get_id());
                _retired.push_back(std::move(self->second));
                _workers.erase(self);
                return;
            }
            if (_queue.empty()) return;  // _quit
            connection = std::move(_queue.front());
            _queue.pop_front();
            _busy.insert(connection.get());
        }
        serve(connection);
    }
}

void ApiConnections::joinRetired() {
    std::vector<std::thread> retired;
    {
        std::lock_guard lock(_mutex);
        retired.swap(_retired);
    }
    if (retired.empty()) return;
    for (auto& t : retired) t.join();
    // What the ended threads had cached and allocated goes back to the system now.
    ::malloc_trim(0);
}

void ApiConnections::serve(Ptr connection) {
    bool keepAlive = false;
    {
        std::unique_lock lock(_mutex);
        const bool stopping = _stopping;
        lock.unlock();
        if (!stopping) {
            do {
                keepAlive = connection->serveRequest();
            } while (keepAlive && nextRequestArrives(*connection));
        }
    }
    release(*connection);
    if (keepAlive) {
        {
            std::lock_guard lock(_mutex);
            ++_live;  // release counted it as gone; park takes it back
        }
        park(std::move(connection), toDuration(_params->getKeepAliveTimeout()));
    }
}

bool ApiConnections::nextRequestArrives(ApiConnection& connection) {
    FramedSocketImpl& input = connection.input();
    if (input.headReady()) return true;
    for (int slice = 0; slice < kLingerSlices; ++slice) {
        {
            std::lock_guard lock(_mutex);
            if (_stopping || !_queue.empty()) return false;
        }
        pollfd ready{connection.fd(), POLLIN, 0};
        const int n = ::poll(&ready, 1, kLingerSliceMillis);
        if (n < 0 && errno != EINTR) return false;
        if (n <= 0) continue;
        const bool open = input.pullAvailable();
        if (input.headReady()) return true;
        if (!open) return false;
    }
    return false;
}

void ApiConnections::release(ApiConnection& connection) {
    std::lock_guard lock(_mutex);
    _busy.erase(&connection);
    --_live;
    _drained.notify_all();
}

void ApiConnections::closeAllWaiting() {
    std::lock_guard lock(_mutex);
    for (const auto& [fd, connection] : _waiting) ::epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, nullptr);
    _live -= _waiting.size();
    _waiting.clear();
    _listening.close();
    _drained.notify_all();
}

void ApiConnections::stop(std::chrono::seconds drain) {
    {
        std::lock_guard lock(_mutex);
        if (_stopping && _workers.empty()) return;
        _stopping = true;
    }
    const std::uint64_t one = 1;
    if (::write(_wake, &one, sizeof one) < 0) {
        // the poller also sees _stopping on its next sweep
    }
    if (_poller.joinable()) _poller.join();
    std::unique_lock lock(_mutex);
    const auto idle = [this] { return _busy.empty() && _queue.empty(); };
    if (!_drained.wait_for(lock, drain, idle)) {
        _logger.warning("closing %d connection(s) still open after %d s",
                        static_cast<int>(_busy.size()), static_cast<int>(drain.count()));
        for (ApiConnection* c : _busy) c->abort();
        _drained.wait(lock, idle);
    }
    _quit = true;
    _workReady.notify_all();
    std::vector<std::thread> workers = std::move(_retired);
    _retired.clear();
    for (auto& [id, t] : _workers) workers.push_back(std::move(t));
    _workers.clear();
    lock.unlock();
    for (auto& t : workers) t.join();
}

}  // namespace sensorsys::server
