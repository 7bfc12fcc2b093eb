// A TCP proxy on 127.0.0.1 that the fault-injection test puts between the agent and the server
// and switches between ways of failing. It works on bytes, not HTTP: an "answer" starts with
// the first bytes the server sends after the client last sent something, which for HTTP/1.1
// without pipelining is the start of the response to the request just forwarded.
// Thread-safety: setMode() and counters() from any thread. One thread accepts, one serves each
// connection; the destructor stops and joins them all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace sensorsys::test::chaos {

enum class ProxyMode {
    Pass,               // forward both ways
    ResetAfterForward,  // forward the request; when the answer starts, RST the client instead
    Delay,              // forward the request; hold the answer for the configured delay
    Refuse,             // RST new connections at once and open ones when the client sends
};

std::string toString(ProxyMode mode);

struct ProxyCounters {
    std::int64_t connections = 0;           // accepted from clients
    std::int64_t answers_forwarded = 0;     // answers passed on (delayed ones included)
    std::int64_t resets_after_forward = 0;  // answers the server sent that the client never saw
    std::int64_t delayed_answers = 0;
    std::int64_t refused = 0;            // connections or requests reset without forwarding
    std::int64_t upstream_failures = 0;  // the server could not be reached (client reset)
};

// An owned file descriptor, closed on destruction.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : _fd(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept : _fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return _fd; }
    int release();
    explicit operator bool() const { return _fd >= 0; }

  private:
    int _fd = -1;
};

class TcpProxy {
  public:
    // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:upstream_port. In Delay
    // mode every answer is held `delay` before it is passed on.
    TcpProxy(int upstream_port, std::chrono::milliseconds delay);
    ~TcpProxy();
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    int port() const { return _port; }
    void setMode(ProxyMode mode) { _mode.store(mode); }
    ProxyMode mode() const { return _mode.load(); }
    ProxyCounters counters() const;

  private:
    struct Connection {
        std::thread thread;
        std::atomic<bool> done{false};
    };

    void acceptLoop();
    void serve(Fd client, Connection& self);
    // Both false when the proxy is stopping (or, for sendAll, the peer is gone).
    bool sleepUnlessStopping(std::chrono::milliseconds pause) const;
    bool sendAll(int fd, const char* data, std::size_t size) const;
    void count(std::int64_t ProxyCounters::*field);

    const int _upstreamPort;
    const std::chrono::milliseconds _delay;
    std::atomic<ProxyMode> _mode{ProxyMode::Pass};
    Fd _listener;
    int _port = 0;
    // Written once on destruction and never read: it stays readable, waking every poll().
    Fd _wakeRead;
    Fd _wakeWrite;
    std::atomic<bool> _stopping{false};
    mutable std::mutex _mutex;
    ProxyCounters _counters;
    std::list<Connection> _connections;  // touched by the accept thread only, until joined
    std::thread _acceptor;
};

}  // namespace sensorsys::test::chaos
