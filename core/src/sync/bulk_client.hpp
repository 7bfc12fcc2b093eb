// Sends one batch of readings to POST {sync.url}/readings/bulk and says what the answer means
// for the agent, following the table in docs/contract.md §5. Keeps keep-alive connections (HTTP or
// HTTPS with CA verification) for reuse: one per request in flight at the same time.
// Thread-safety: post(), send() and get() may run concurrently, each on its own connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include "sync/idle_pool.hpp"
#include "time_source.hpp"

namespace sensorsys::agent {

enum class AnswerKind {
    Accepted,        // 2xx: inserted and duplicates are synced, `rejected` are quarantined
    RequestRefused,  // 400, 413, 422 for the whole request: halve the batch and resend
    WantsPlain,      // 415 to a gzip body: resend without gzip, remember
    ConfigProblem,   // 401, 403, 404, 405, other 4xx: back off, log loudly, quarantine nothing
    RetryLater,      // 429, 503: wait Retry-After (or back off)
    Failed,          // other 5xx, timeout, connection or TLS error: back off
};

struct BulkAnswer {
    AnswerKind kind = AnswerKind::Failed;
    int status = 0;  // HTTP status, 0 when no answer arrived
    std::vector<std::pair<std::size_t, std::string>> rejected;  // (index in batch, reason)
    std::optional<std::chrono::seconds> retryAfter;
    std::string message;  // for the log: status and the server's error text, or the cause
};

// One request body {"readings": [...]}, gzipped or not, built before it is sent (the sync
// thread builds the next batch's body while the current one is on the wire).
struct BulkBody {
    std::string bytes;
    bool gzip = false;
    std::size_t count = 0;  // readings in it
};

// Builds request bodies, keeping its JSON buffer and zlib's state from one body to the next:
// a 360-reading body is ~130 kB of JSON and zlib's state ~270 kB, and allocated afresh for
// every batch they came back from the kernel as new zeroed pages each time (page faults, the
// allocator's trims: a tenth of the agent's CPU during a drain). One per thread at a time.
class BodyBuilder {
  public:
    BodyBuilder();
    ~BodyBuilder();
    BodyBuilder(const BodyBuilder&) = delete;
    BodyBuilder& operator=(const BodyBuilder&) = delete;

    // `items` are the readings' JSON objects.
    BulkBody build(const std::vector<std::string_view>& items, bool gzip);

  private:
    struct Deflater;
    std::string _json;
    std::unique_ptr<Deflater> _deflater;  // made on first use of gzip
};

// `items` are the readings' JSON objects. Pure; safe from any thread.
BulkBody makeBulkBody(const std::vector<std::string_view>& items, bool gzip);

// What a status, body and Retry-After header mean. Pure; safe from any thread.
BulkAnswer interpretAnswer(int status, const std::string& body, const std::string& retry_after,
                           bool was_gzip, std::size_t batch_size);

class BulkClient {
  public:
    BulkClient(const std::string& base_url, std::string token, std::chrono::milliseconds timeout);
    ~BulkClient();

    // `items` are the readings' JSON objects; they are sent as {"readings": [...]}.
    BulkAnswer post(const std::vector<std::string>& items, bool gzip);
    // Sends a body made by makeBulkBody.
    BulkAnswer send(const BulkBody& body);

    // GET {sync.url}{path}: status and body, for --check-api. Throws Poco::Exception.
    std::pair<int, std::string> get(const std::string& path);

    const Poco::URI& url() const { return _base; }

    // Every answer's X-Server-Time is offered to `time`, with the request's round trip measured
    // on CLOCK_BOOTTIME. Set before the first request; `time` must outlive this client.
    void observeServerTime(TimeSource* time) { _time = time; }

  private:
    using Session = std::unique_ptr<Poco::Net::HTTPClientSession>;
    // An idle kept-alive connection, or a new one (connected on first use).
    Session takeSession();
    // Keeps a connection that answered for the next request. One that failed is not given
    // back: it is dropped with its socket.
    void keep(Session session);
    // A post that got no answer: the batch counts as failed.
    BulkAnswer noAnswer(const std::string& cause) const;
    std::chrono::nanoseconds boottime() const;
    void offerServerTime(const Poco::Net::HTTPResponse& response, std::chrono::nanoseconds sent);

    Poco::URI _base;
    std::string _token;
    std::chrono::milliseconds _timeout;
    IdlePool<Poco::Net::HTTPClientSession> _idle{4};
    TimeSource* _time = nullptr;
};

}  // namespace sensorsys::agent
