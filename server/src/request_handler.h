// The POCO edge: reads the body within the limit, calls parseRequest and ApiService, writes
// the response, logs one line and records metrics. Nothing escapes handleRequest.
#pragma once

#include "api_service.h"
#include "server_config.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>

namespace sensorsys::server {

// Holds only references: each connection keeps one and calls it for each of its requests.
class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
  public:
    ApiRequestHandler(const ServerConfig& config, ApiService& service, Poco::Logger& logger)
        : _config(config), _service(service), _logger(logger) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override;

  private:
    const ServerConfig& _config;
    ApiService& _service;
    Poco::Logger& _logger;
};

}  // namespace sensorsys::server
