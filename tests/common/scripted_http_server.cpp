#include "scripted_http_server.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timestamp.h>

namespace sensorsys::test {
namespace {

// X-Server-Time as the real server sends it: RFC 3339 UTC with microseconds.
std::string serverTimeNow() {
    return Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%FZ");
}

using Script = ScriptedHttpServer::Script;

class ScriptedHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit ScriptedHandler(std::shared_ptr<Script> script) : _script(std::move(script)) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        // Counted so the server outlives no handler: a stalled one would otherwise answer
        // after the test (and Poco's static data) is gone.
        {
            std::lock_guard lock(_script->mutex);
            ++_script->active;
        }
        struct Leave {
            Script& script;
            ~Leave() {
                std::lock_guard lock(script.mutex);
                --script.active;
                script.changed.notify_all();
            }
        } leave{*_script};
        SeenRequest seen{request.getMethod(),
                         request.getURI(),
                         request.get("Content-Encoding", ""),
                         request.get("Authorization", ""),
                         {}};
        std::string raw;
        Poco::StreamCopier::copyToString(request.stream(), raw);
        if (seen.content_encoding == "gzip") {
            std::istringstream packed(raw);
            Poco::InflatingInputStream inflate(packed, Poco::InflatingStreamBuf::STREAM_GZIP);
            Poco::StreamCopier::copyToString(inflate, seen.body);
        } else {
            seen.body = raw;
        }
        if (seen.method == "GET" && seen.path.ends_with("/auth/check")) {
            // The agent asks for the time here when no source has answered yet (its readings
            // wait until then): answered as the real server does, outside the script.
            response.set("X-Server-Time", serverTimeNow());
            response.setContentType("application/json");
            response.send() << "{}";
            return;
        }
        ScriptedReply answer;
        {
            std::lock_guard lock(_script->mutex);
            _script->seen.push_back(seen);
            if (_script->answers.empty()) {
                answer = _script->fallback;
            } else {
                answer = _script->answers.front();
                _script->answers.pop_front();
            }
        }
        if (answer.hang_up) {
            // Poco answers a Poco::Exception with a 500 but closes silently on std::exception.
            throw std::runtime_error("scripted hang-up");
        }
        {
            std::unique_lock lock(_script->mutex);
            _script->changed.wait_for(lock, answer.stall, [&] { return _script->closing; });
            // Closing while stalled: hang up; the client must not take a late answer for one.
            if (answer.stall.count() > 0 && _script->closing) {
                throw std::runtime_error("scripted server closing");
            }
        }
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        response.setContentType("application/json");
        response.set("X-Server-Time", serverTimeNow());
        if (!answer.retry_after.empty()) response.set("Retry-After", answer.retry_after);
        try {
            response.sendBuffer(answer.body.data(), answer.body.size());
        } catch (const Poco::Exception&) {
            // The client gave up (timeout) or the server is closing: nothing to answer.
        }
    }

  private:
    std::shared_ptr<Script> _script;
};

class ScriptedFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit ScriptedFactory(std::shared_ptr<Script> script) : _script(std::move(script)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
        return std::make_unique<ScriptedHandler>(_script).release();  // Poco takes ownership
    }

  private:
    std::shared_ptr<Script> _script;
};

}  // namespace

ScriptedReply reply(int status, std::string body, std::string retry_after, bool hang_up,
                    std::chrono::milliseconds stall) {
    ScriptedReply r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    r.hang_up = hang_up;
    r.stall = stall;
    return r;
}

ScriptedHttpServer::ScriptedHttpServer(int port)
    : _script(std::make_shared<Script>()),
      _socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))),
      _server(std::make_unique<Poco::Net::HTTPServer>(
          Poco::makeShared<ScriptedFactory>(_script), _socket,
          Poco::makeAuto<Poco::Net::HTTPServerParams>())) {
    _server->start();
}

ScriptedHttpServer::~ScriptedHttpServer() {
    {
        std::lock_guard lock(_script->mutex);
        _script->closing = true;  // stalled handlers answer now instead of outliving the server
    }
    _script->changed.notify_all();
    _server->stopAll(true);
    std::unique_lock lock(_script->mutex);
    _script->changed.wait_for(lock, std::chrono::seconds(10), [&] { return _script->active == 0; });
}

std::string ScriptedHttpServer::url() const {
    return "http://127.0.0.1:" + std::to_string(_socket.address().port());
}

void ScriptedHttpServer::answer(ScriptedReply r) {
    std::lock_guard lock(_script->mutex);
    _script->answers.push_back(std::move(r));
}

void ScriptedHttpServer::setFallback(ScriptedReply r) {
    std::lock_guard lock(_script->mutex);
    _script->fallback = std::move(r);
}

std::vector<SeenRequest> ScriptedHttpServer::seen() const {
    std::lock_guard lock(_script->mutex);
    return _script->seen;
}

int ScriptedHttpServer::totalConnections() const {
    return _server->totalConnections();
}

}  // namespace sensorsys::test
