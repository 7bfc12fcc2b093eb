#include "request_handler.hpp"

#include "json_answer.hpp"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>

namespace sensorsys::server {

namespace {

// After an early answer with Connection: close, read (and drop) what the client is still
// sending for a moment before closing, so it receives the answer instead of a reset
// ("lingering close"). Bounded in bytes and time.
void lingeringClose(Poco::Net::HTTPServerRequest& request) {
    try {
        auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
        socket.shutdownSend();
        socket.setReceiveTimeout(Poco::Timespan(0, 500000));
        char buffer[16384];
        std::size_t total = 0;
        while (total < 8 * 1024 * 1024) {
            const int n = socket.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
    } catch (...) {
        // timeout or reset: the connection is closing anyway
    }
}

void sendResponse(Poco::Net::HTTPServerResponse& response, const ApiResponse& r) {
    // setStatus alone would leave the reason phrase at its default, "OK" ("404 OK").
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
    response.setContentType(r.contentType);
    for (const auto& [name, value] : r.headers) response.set(name, value);
    if (r.close) response.setKeepAlive(false);
    response.setContentLength(static_cast<std::streamsize>(r.body.size()));
    if (!r.close) {
        // Header and body leave in one write when POCO flushes after the handler.
        response.sendBuffer(r.body.data(), r.body.size());
        return;
    }
    // send() + flush: sendBuffer would leave the bytes in a stream POCO flushes only after
    // the handler returns, too late for lingeringClose.
    std::ostream& out = response.send();
    out.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
    out.flush();
}

}  // namespace

ApiResponse ApiRequestHandler::answer(Poco::Net::HTTPServerRequest& request, BodyRead& read,
                                      ApiRequest& parsed) {
    // TCP_NODELAY is set once per connection (ApiConnection::run), not here.
    Headers headers;
    for (const auto& [name, value] : request) headers.emplace_back(name, value);
    std::optional<std::int64_t> contentLength;
    if (request.hasContentLength()) contentLength = request.getContentLength64();
    std::string body;
    read = readBody(request.stream(), contentLength, _config.maxBodyBytes, body);
    if (read == BodyRead::TooLarge) {
        ApiError e = apiError(413, "body over the limit",
                              jsonObject({{"limit_bytes", _config.maxBodyBytes}}));
        e.closeConnection = true;  // the rest of the body was not read
        return errorResponse(e);
    }
    if (read == BodyRead::Broken) {
        ApiError e = apiError(400, "incomplete request body");
        e.closeConnection = true;
        return errorResponse(e);
    }
    const RequestLimits limits{_config.maxBodyBytes, _config.maxBatch, _config.maxPageRows,
                               _config.maxFutureSeconds, _config.seriesPoints};
    parsed = parseRequest(_service.routes(), request.getMethod(), request.getURI(), headers, body,
                          limits);
    body.clear();
    body.shrink_to_fit();
    return _service.handle(parsed);
}

void ApiRequestHandler::serve(Poco::Net::HTTPServerRequest& request,
                              Poco::Net::HTTPServerResponse& response, Outcome& outcome) {
    BodyRead read = BodyRead::Complete;
    ApiRequest parsed;
    const ApiResponse r = answer(request, read, parsed);
    outcome.route = parsed.route;
    outcome.status = r.status;
    outcome.bytes = r.body.size();
    if (r.live) {
        _live = r.live;  // ApiConnection hands the connection to the live hub
        return;
    }
    if (r.streamAfter || r.stream) {
        sendStreamed(request, response, r, parsed);
        return;
    }
    sendResponse(response, r);
    if (read != BodyRead::Complete) lingeringClose(request);
}

void ApiRequestHandler::sendStreamed(Poco::Net::HTTPServerRequest& request,
                                     Poco::Net::HTTPServerResponse& response, const ApiResponse& r,
                                     const ApiRequest& parsed) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
    response.setContentType(r.contentType);
    for (const auto& [name, value] : r.headers) response.set(name, value);
    response.setChunkedTransferEncoding(true);
    std::ostream& out = response.send();
    out.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
    using StreamEnd = ApiService::StreamEnd;
    StreamEnd end = StreamEnd::Complete;
    if (r.stream) {
        // A stream that stopped with the output still good failed on the server's side.
        if (!r.stream(out)) end = out ? StreamEnd::Failed : StreamEnd::ClientGone;
    } else {
        end = _service.streamRest(parsed.range, *r.streamAfter, out);
    }
    switch (end) {
        case StreamEnd::Complete:
            return;
        case StreamEnd::ClientGone:
            _logger.warning("%s: the client stopped taking the answer; connection cut",
                            routeName(parsed.route));
            break;
        case StreamEnd::Failed:
            _logger.error("%s aborted mid-stream; closing the connection", routeName(parsed.route));
            break;
    }
    // Headers are out; the only honest signal left is to cut the connection so the client sees
    // a truncated body instead of a well-formed partial array.
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    impl.socket().shutdown();
}

void ApiRequestHandler::failed(Poco::Net::HTTPServerRequest& request,
                               Poco::Net::HTTPServerResponse& response, const std::exception& e) {
    // Poco's own exceptions say more in displayText() than in what().
    const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    _logger.error("request %s %s failed: %s", request.getMethod(), request.getURI(),
                  poco ? poco->displayText() : std::string(e.what()));
    if (response.sent()) return;
    ApiResponse r = errorResponse(apiError(500, "internal error"));
    r.close = true;
    try {
        sendResponse(response, r);
    } catch (...) {
        // the connection is gone
    }
}

void ApiRequestHandler::logAccess(Poco::Net::HTTPServerRequest& request, const Outcome& outcome,
                                  double seconds) {
    if (!_config.logRequests || !_logger.information()) return;
    std::string line = request.getMethod() + " " + request.getURI().substr(0, 300) + " " +
                       std::to_string(outcome.status) + " " +
                       std::to_string(seconds * 1000.0).substr(0, 8) + "ms " +
                       std::to_string(outcome.bytes) + "B";
    _logger.information(line);
}

void ApiRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response) {
    const auto started = std::chrono::steady_clock::now();
    Outcome outcome;
    try {
        serve(request, response, outcome);
    } catch (const std::exception& e) {
        outcome.status = 500;
        failed(request, response, e);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    _service.metrics().recordRequest(outcome.route, outcome.status, seconds);
    logAccess(request, outcome, seconds);
}

}  // namespace sensorsys::server
