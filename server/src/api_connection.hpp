// The API's connections. One poller thread accepts them and watches every connection that is
// waiting (idle between keep-alive requests, or still sending its header section) with epoll;
// a worker thread is taken only once a complete header section is there (or the connection
// must be refused), and given back when the request is answered; a connection whose header
// section missed its deadline is answered 408 and closed by the poller itself. So slow or
// idle clients cost a file descriptor, not a thread nor a buffer: http.max_connections
// bounds them (above it a new connection is closed at once), http.max_threads bounds the
// requests served at once. Workers beyond http.min_threads end after 10 s idle.
//
// Stopping: stop() stops accepting, closes the waiting connections at once, lets the workers
// finish the requests they serve for up to the drain time, then cuts what is left.
// Thread-safe: the poller and the workers share the connection sets under one mutex.
#pragma once

#include "api_service.hpp"
#include "framed_socket.hpp"
#include "request_handler.hpp"
#include "server_config.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sensorsys::server {

class ApiConnections;

// One client connection: its socket, the framing layer over it, and what the poller needs.
class ApiConnection {
  public:
    using Clock = std::chrono::steady_clock;

    ApiConnection(const Poco::Net::StreamSocket& socket, ApiConnections& owner);

    int fd() const { return _fd; }
    FramedSocketImpl& input() { return _input; }
    // Reads one request (its head is in the input, or it must be refused) and answers it;
    // true when the connection stays open for another.
    bool serveRequest();
    // Cuts the connection: wakes a worker blocked on it.
    void abort();

    // Owned by whoever holds the connection (the poller while it waits).
    Clock::time_point waitUntil;  // idle or header-section deadline

  private:
    bool handleRequest();
    // Authentication before the body: true when the request was refused (401/403) unread.
    bool refusedBeforeBody();

    ApiConnections& _owner;
    Poco::Net::StreamSocket _socket;
    int _fd;
    Poco::Net::StreamSocket _framed;  // POCO's view of the client: through the framing layer
    FramedSocketImpl& _input;
    ApiRequestHandler _handler;
    std::int64_t _served = 0;
};

class ApiConnections {
  public:
    ApiConnections(const Poco::Net::ServerSocket& listening,
                   Poco::Net::HTTPServerParams::Ptr params, const ServerConfig& config,
                   ApiService& service, Poco::Logger& logger);
    ~ApiConnections();
    ApiConnections(const ApiConnections&) = delete;
    ApiConnections& operator=(const ApiConnections&) = delete;

    void start();
    void stop(std::chrono::seconds drain);

  private:
    friend class ApiConnection;
    using Ptr = std::shared_ptr<ApiConnection>;

    void pollLoop();
    void acceptAll();
    void onReadable(int fd);
    void sweep();
    void dispatch(Ptr connection);
    void park(Ptr connection, std::chrono::steady_clock::duration idle);
    void closeAllWaiting();
    void addWorker();  // with _mutex held
    // With _mutex held: a queued connection needs a worker (started if none is idle).
    void wakeWorker();
    void work();
    void joinRetired();
    void serve(Ptr connection);
    // After a keep-alive answer a client's next request usually follows at once (an agent
    // sending its batches, a page loading its parts): waiting a few milliseconds for it on the
    // worker saves the two thread hand-offs through the poller, which cost a third of a small
    // request's rate. Only while no other connection waits for a worker; true when its head is
    // complete.
    bool nextRequestArrives(ApiConnection& connection);
    void release(ApiConnection& connection);

    Poco::Net::ServerSocket _listening;
    // Not const: POCO takes the request's parameters as a non-const pointer.
    Poco::Net::HTTPServerParams::Ptr _params;
    const ServerConfig& _config;
    ApiService& _service;
    Poco::Logger& _logger;
    const std::string _serverHeader;
    FramingSettings _framing;
    int _epoll = -1;
    int _wake = -1;  // eventfd: wakes the poller to stop

    std::mutex _mutex;                         // guards everything below
    std::unordered_map<int, Ptr> _waiting;     // in epoll, by descriptor
    std::unordered_set<ApiConnection*> _busy;  // served by a worker now
    std::deque<Ptr> _queue;                    // ready for a worker
    std::size_t _live = 0;                     // open connections
    std::size_t _idleWorkers = 0;
    bool _stopping = false;
    bool _quit = false;
    std::condition_variable _workReady;
    std::condition_variable _drained;
    std::unordered_map<std::thread::id, std::thread> _workers;
    std::vector<std::thread> _retired;  // ended after idling, joined by the poller
    std::thread _poller;
};

}  // namespace sensorsys::server
