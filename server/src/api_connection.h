// One keep-alive HTTP connection on POCO's TCPServer, served by our own loop instead of POCO's
// HTTPServerConnection. POCO 1.11 waits for each keep-alive request with Socket::poll, which
// creates, arms, waits on and closes an epoll instance: four syscalls per request. The loop here
// waits with one poll(2), and only when no pipelined request is already buffered.
//
// Stopping: the factory knows the live connections. stopAll(false) lets each finish the request
// it is serving and ends idle ones at once (their socket is shut down, which wakes the wait);
// stopAll(true) also cuts the ones still in a request.
#pragma once

#include "api_service.h"
#include "framed_socket.h"
#include "request_handler.h"
#include "server_config.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>

namespace sensorsys::server {

class ApiConnectionFactory;

class ApiConnection : public Poco::Net::TCPServerConnection {
  public:
    ApiConnection(const Poco::Net::StreamSocket& socket, ApiConnectionFactory& factory);

    // The keep-alive loop: one request after the other until the client or a limit ends it,
    // or the server stops.
    void run() override;

  private:
    friend class ApiConnectionFactory;

    // Called by the factory (under its lock) when the server stops.
    void stop(bool abortCurrent);
    // Waits up to timeout for the next request's first bytes; false on timeout or error.
    bool waitForRequest(const Poco::Timespan& timeout);
    // False when the server has stopped: the connection ends without reading the request.
    bool beginRequest();
    // False when the server stopped while the request was served.
    bool endRequest();
    // Reads one request and answers it; true when the connection stays open for another.
    // number counts from 1; 64 bits: an unlimited keep-alive connection never wraps.
    bool serveRequest(Poco::Net::StreamSocket& framed, FramedSocketImpl& input,
                      std::int64_t number);
    // Hands a validated request to the handler; true when its answer keeps the connection.
    bool handleRequest(Poco::Net::StreamSocket& framed, std::int64_t number);
    void shutdownSocket();

    ApiConnectionFactory& _factory;
    ApiRequestHandler _handler;
    // Guards _stopped and _busy against stop() from the stopping thread, and keeps it from
    // cutting a request it should let finish.
    std::mutex _mutex;
    bool _stopped = false;
    bool _busy = false;
};

class ApiConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    ApiConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, const ServerConfig& config,
                         ApiService& service, Poco::Logger& logger);

    // POCO's API: the TCPServer's dispatcher takes ownership of the returned connection.
    Poco::Net::TCPServerConnection* createConnection(
        const Poco::Net::StreamSocket& socket) override;

    // Every connection ends after the request it is serving (idle ones at once); with
    // abortCurrent, the ones in a request are cut too. Connections that start later end at once.
    void stopAll(bool abortCurrent);

  private:
    friend class ApiConnection;

    // A connection is in _live while its socket is open, so stopAll never shuts down a closed
    // (possibly reused) descriptor. After stopAll, connections are not accepted any more.
    class Registration {
      public:
        Registration(ApiConnectionFactory& factory, ApiConnection& connection);
        ~Registration();
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;

        bool accepted() const { return _accepted; }

      private:
        ApiConnectionFactory& _factory;
        ApiConnection& _connection;
        bool _accepted = false;
    };

    // Not const: POCO takes the request's parameters as a non-const pointer.
    Poco::Net::HTTPServerParams::Ptr _params;
    const ServerConfig& _config;
    ApiService& _service;
    Poco::Logger& _logger;
    const std::string _serverHeader;
    FramingSettings _framing;
    std::mutex _mutex;  // guards _live and _stopped
    std::unordered_set<ApiConnection*> _live;
    bool _stopped = false;
};

}  // namespace sensorsys::server
