// A real HTTP server on 127.0.0.1 (a free port) that answers from a script, for testing the
// agent's sync client against every kind of answer: status codes, Retry-After, a hang-up
// after reading the request (lost acknowledgement) and stalls past the client's timeout.
// Thread-safety: script and inspect from the test thread; handlers run on server threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>

namespace sensorsys::test {

struct ScriptedReply {
    int status = 200;
    std::string body = "{}";
    std::string retry_after;
    bool hang_up = false;  // read the request, then close without answering
    std::chrono::milliseconds stall{0};
};

ScriptedReply reply(int status, std::string body, std::string retry_after = "",
                    bool hang_up = false,
                    std::chrono::milliseconds stall = std::chrono::milliseconds(0));

struct SeenRequest {
    std::string method;
    std::string path;
    std::string content_encoding;
    std::string authorization;
    std::string body;  // inflated when gzip
};

class ScriptedHttpServer {
  public:
    // Listens on 127.0.0.1:`port` (0: a free port). A fixed port lets a test put a real server
    // on the same address after the scripted answers, without restarting the client.
    explicit ScriptedHttpServer(int port = 0);
    ~ScriptedHttpServer();

    std::string url() const;
    // Answers are used in order; when none is left the server answers `fallback`.
    void answer(ScriptedReply reply);
    void setFallback(ScriptedReply reply);
    std::vector<SeenRequest> seen() const;
    int totalConnections() const;

    struct Script {
        mutable std::mutex mutex;
        std::condition_variable changed;
        bool closing = false;  // set by the destructor: stalls end at once
        int active = 0;        // handlers running; the destructor waits for them
        std::deque<ScriptedReply> answers;
        ScriptedReply fallback;
        std::vector<SeenRequest> seen;
    };

  private:
    std::shared_ptr<Script> _script;
    Poco::Net::ServerSocket _socket;
    std::unique_ptr<Poco::Net::HTTPServer> _server;
};

}  // namespace sensorsys::test
