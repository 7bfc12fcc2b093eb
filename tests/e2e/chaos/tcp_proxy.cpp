#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace sensorsys::test::chaos {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    return address;
}

[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), "TcpProxy: " + what);
}

// Closes with RST instead of FIN: the peer's next read or write fails with "connection reset".
void reset(Fd socket) {
    const linger abort{1, 0};
    ::setsockopt(socket.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

}  // namespace

std::string toString(ProxyMode mode) {
    switch (mode) {
        case ProxyMode::Pass:
            return "pass";
        case ProxyMode::ResetAfterForward:
            return "reset-after-forward";
        case ProxyMode::Delay:
            return "delay";
        case ProxyMode::Refuse:
            return "refuse";
    }
    return "?";
}

Fd::~Fd() {
    if (_fd >= 0) ::close(_fd);
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (_fd >= 0) ::close(_fd);
        _fd = other.release();
    }
    return *this;
}

int Fd::release() {
    const int fd = _fd;
    _fd = -1;
    return fd;
}

TcpProxy::TcpProxy(int upstream_port, std::chrono::milliseconds delay)
    : _upstreamPort(upstream_port), _delay(delay) {
    _listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!_listener) fail("socket");
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (::bind(_listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(_listener.get(), 64) != 0 ||
        ::getsockname(_listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        fail("listen on 127.0.0.1");
    }
    _port = ntohs(address.sin_port);
    int pipe[2];
    if (::pipe2(pipe, O_CLOEXEC) != 0) fail("pipe");
    _wakeRead = Fd(pipe[0]);
    _wakeWrite = Fd(pipe[1]);
    _acceptor = std::thread([this] { acceptLoop(); });
}

TcpProxy::~TcpProxy() {
    _stopping.store(true);
    const char byte = 0;
    [[maybe_unused]] const auto written = ::write(_wakeWrite.get(), &byte, 1);
    _acceptor.join();
}

ProxyCounters TcpProxy::counters() const {
    std::lock_guard lock(_mutex);
    return _counters;
}

void TcpProxy::count(std::int64_t ProxyCounters::*field) {
    std::lock_guard lock(_mutex);
    ++(_counters.*field);
}

bool TcpProxy::sleepUnlessStopping(std::chrono::milliseconds pause) const {
    pollfd wake{_wakeRead.get(), POLLIN, 0};
    const auto until = std::chrono::steady_clock::now() + pause;
    while (!_stopping.load()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        ::poll(&wake, 1, static_cast<int>(left.count()));
    }
    return false;
}

bool TcpProxy::sendAll(int fd, const char* data, std::size_t size) const {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            size -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            std::array<pollfd, 2> fds{{{fd, POLLOUT, 0}, {_wakeRead.get(), POLLIN, 0}}};
            ::poll(fds.data(), fds.size(), -1);
            if (_stopping.load()) return false;
            continue;
        }
        return false;
    }
    return true;
}

void TcpProxy::acceptLoop() {
    while (!_stopping.load()) {
        // The timeout only paces the reaping of finished connections.
        std::array<pollfd, 2> fds{{{_listener.get(), POLLIN, 0}, {_wakeRead.get(), POLLIN, 0}}};
        ::poll(fds.data(), fds.size(), 200);
        for (auto it = _connections.begin(); it != _connections.end();) {
            if (it->done.load()) {
                it->thread.join();
                it = _connections.erase(it);
            } else {
                ++it;
            }
        }
        if (_stopping.load() || (fds[0].revents & POLLIN) == 0) continue;
        Fd client(::accept4(_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) continue;
        count(&ProxyCounters::connections);
        if (_mode.load() == ProxyMode::Refuse) {
            count(&ProxyCounters::refused);
            reset(std::move(client));
            continue;
        }
        auto& connection = _connections.emplace_back();
        connection.thread = std::thread([this, &connection, fd = std::move(client)]() mutable {
            serve(std::move(fd), connection);
        });
    }
    for (auto& connection : _connections) connection.thread.join();
    _connections.clear();
}

void TcpProxy::serve(Fd client, Connection& self) {
    struct Finished {
        Connection& c;
        ~Finished() { c.done.store(true); }
    } finished{self};

    Fd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(_upstreamPort);
    if (!upstream || ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&address),
                               sizeof address) != 0) {
        count(&ProxyCounters::upstream_failures);
        reset(std::move(client));
        return;
    }

    // True until the client sends something: the server's next bytes start a new answer.
    bool answer_started = true;
    std::array<char, 64 * 1024> buffer{};
    while (!_stopping.load()) {
        std::array<pollfd, 3> fds{
            {{client.get(), POLLIN, 0}, {upstream.get(), POLLIN, 0}, {_wakeRead.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (_stopping.load()) return;
        if (fds[0].revents != 0) {
            const ssize_t n = ::recv(client.get(), buffer.data(), buffer.size(), 0);
            if (n <= 0) return;  // the client closed (or reset): both sides close
            if (_mode.load() == ProxyMode::Refuse) {
                count(&ProxyCounters::refused);
                reset(std::move(client));
                return;
            }
            answer_started = false;
            if (!sendAll(upstream.get(), buffer.data(), static_cast<std::size_t>(n))) {
                reset(std::move(client));
                return;
            }
        }
        if (fds[1].revents != 0) {
            const ssize_t n = ::recv(upstream.get(), buffer.data(), buffer.size(), 0);
            if (n < 0) {  // the server reset (killed mid-answer, say): pass that on
                reset(std::move(client));
                return;
            }
            if (n == 0) return;  // the server closed: close the client side too
            if (!answer_started) {
                answer_started = true;
                const ProxyMode mode = _mode.load();
                if (mode == ProxyMode::ResetAfterForward) {
                    // The server has answered, so it has committed; the client never learns.
                    count(&ProxyCounters::resets_after_forward);
                    reset(std::move(client));
                    return;
                }
                if (mode == ProxyMode::Delay) {
                    count(&ProxyCounters::delayed_answers);
                    if (!sleepUnlessStopping(_delay)) return;
                }
                count(&ProxyCounters::answers_forwarded);
            }
            if (!sendAll(client.get(), buffer.data(), static_cast<std::size_t>(n))) return;
        }
    }
}

}  // namespace sensorsys::test::chaos
