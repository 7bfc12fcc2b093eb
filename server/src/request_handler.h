// The POCO edge: reads the body within the limit, calls parseRequest and ApiService, writes
// the response, logs one line and records metrics. Nothing escapes handleRequest.
#pragma once

#include "api_service.h"
#include "server_config.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

namespace sensorsys::server {

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

class ApiRequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    ApiRequestHandlerFactory(const ServerConfig& config, ApiService& service, Poco::Logger& logger)
        : _config(config), _service(service), _logger(logger) {}

    // POCO's API: the server takes ownership of the returned handler.
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
        return new ApiRequestHandler(_config, _service, _logger);
    }

  private:
    const ServerConfig& _config;
    ApiService& _service;
    Poco::Logger& _logger;
};

}  // namespace sensorsys::server
