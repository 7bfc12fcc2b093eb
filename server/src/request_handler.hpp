// The POCO edge: reads the body within the limit, calls parseRequest and ApiService, writes
// the response (buffered, or streamed for a long GET /readings), logs one line and records
// metrics. Nothing escapes handleRequest.
#pragma once

#include "api_service.hpp"
#include "body_limits.hpp"
#include "server_config.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>

#include <cstddef>

namespace sensorsys::server {

// Holds only references: each connection keeps one and calls it for each of its requests.
class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
  public:
    ApiRequestHandler(const ServerConfig& config, ApiService& service, Poco::Logger& logger)
        : _config(config), _service(service), _logger(logger) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override;
    // The live subscription the last request was accepted for (its connection goes to the
    // live hub); null for every other request.
    std::shared_ptr<LiveSubscription> takeLive() { return std::move(_live); }

  private:
    // What one request came to, for the metrics and the access log.
    struct Outcome {
        Route route;
        int status = 500;
        std::size_t bytes = 0;
    };

    // Reads the body and answers from parseRequest and the service; parsed keeps the request
    // for a streamed answer.
    ApiResponse answer(Poco::Net::HTTPServerRequest& request, BodyRead& read, ApiRequest& parsed);
    void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
               Outcome& outcome);
    void sendStreamed(Poco::Net::HTTPServerRequest& request,
                      Poco::Net::HTTPServerResponse& response, const ApiResponse& r,
                      const ApiRequest& parsed);
    void failed(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                const std::exception& e);
    void logAccess(Poco::Net::HTTPServerRequest& request, const Outcome& outcome, double seconds);

    const ServerConfig& _config;
    ApiService& _service;
    Poco::Logger& _logger;
    std::shared_ptr<LiveSubscription> _live;
};

}  // namespace sensorsys::server
