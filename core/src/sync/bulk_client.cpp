#include "bulk_client.hpp"

#include <sstream>
#include <stdexcept>

#include <zlib.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>

namespace sensorsys::agent {
namespace {

// The server's {"error": ..., "detail": ...} as one line, or the start of the raw body.
std::string errorText(const std::string& body) {
    try {
        const auto object = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        std::string text = object->optValue<std::string>("error", "");
        if (object->has("detail") && !object->isNull("detail")) {
            const Poco::Dynamic::Var detail = object->get("detail");
            std::ostringstream out;
            if (detail.isString()) {
                out << detail.extract<std::string>();
            } else {
                Poco::JSON::Stringifier::stringify(detail, out);
            }
            text += (text.empty() ? "" : ": ") + out.str();
        }
        if (!text.empty()) return text;
    } catch (const std::exception&) {
        // Not JSON (a proxy's HTML page, say): show the start of the raw text.
    }
    return body.substr(0, 200);
}

std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value) {
    if (value.empty()) return std::nullopt;
    try {
        const long seconds = std::stol(value);
        if (seconds >= 0) return std::chrono::seconds(seconds);
    } catch (const std::exception&) {
        // An HTTP-date Retry-After is rare from our server; back off instead.
    }
    return std::nullopt;
}

}  // namespace

BulkAnswer interpretAnswer(int status, const std::string& body, const std::string& retry_after,
                           bool was_gzip, std::size_t batch_size) {
    BulkAnswer answer;
    answer.status = status;
    answer.retryAfter = parseRetryAfter(retry_after);
    const std::string prefix = "HTTP " + std::to_string(status);
    if (status >= 200 && status < 300) {
        answer.kind = AnswerKind::Accepted;
        try {
            const auto object = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
            if (const auto rejected = object->getArray("rejected")) {
                for (std::size_t i = 0; i < rejected->size(); ++i) {
                    const auto item = rejected->getObject(static_cast<unsigned>(i));
                    const auto index = item->getValue<std::size_t>("index");
                    if (index < batch_size) {
                        answer.rejected.emplace_back(
                            index, item->optValue<std::string>("error", "rejected"));
                    }
                }
            }
            answer.message =
                prefix + " inserted " + std::to_string(object->optValue<long long>("inserted", 0)) +
                ", duplicates " + std::to_string(object->optValue<long long>("duplicates", 0)) +
                ", rejected " + std::to_string(answer.rejected.size());
        } catch (const std::exception&) {
            // The seed's server answers {"inserted": n} or nothing we can read: a 2xx still
            // means the whole batch is committed.
            answer.message = prefix + " (no bulk summary in the answer: all taken as stored)";
        }
        return answer;
    }
    answer.message = prefix + ": " + errorText(body);
    if (status == 400 || status == 413 || status == 422) {
        answer.kind = AnswerKind::RequestRefused;
    } else if (status == 415 && was_gzip) {
        answer.kind = AnswerKind::WantsPlain;
    } else if (status == 429 || status == 503) {
        answer.kind = AnswerKind::RetryLater;
    } else if (status >= 400 && status < 500) {
        answer.kind = AnswerKind::ConfigProblem;
    } else {
        answer.kind = AnswerKind::Failed;
    }
    return answer;
}

BulkClient::BulkClient(const std::string& base_url, std::string token,
                       std::chrono::milliseconds timeout)
    : _base(base_url), _token(std::move(token)), _timeout(timeout) {}

BulkClient::~BulkClient() = default;

BulkClient::Session BulkClient::takeSession() {
    if (Session idle = _idle.take()) return idle;
    Session session;
    if (_base.getScheme() == "https") {
        // Peer verification against the system's CA store, host name checked by Poco.
        auto context =
            Poco::makeAuto<Poco::Net::Context>(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                               Poco::Net::Context::VERIFY_RELAXED, 9, true);
        session = std::make_unique<Poco::Net::HTTPSClientSession>(_base.getHost(), _base.getPort(),
                                                                  context);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(_base.getHost(), _base.getPort());
    }
    session->setTimeout(Poco::Timespan(_timeout.count() * 1000));
    session->setKeepAlive(true);
    return session;
}

void BulkClient::keep(Session session) {
    _idle.give(std::move(session));
}

// zlib's deflate state for gzip at the fastest level, reset between bodies.
struct BodyBuilder::Deflater {
    z_stream stream{};
    std::string out;  // room for the largest body so far; only the gzip bytes are copied out

    Deflater() {
        // Fastest level: a third of the CPU of the default for ~20 % more bytes on sensor
        // JSON (12.5 vs 10.5 kB per 360 readings) - the Pi's CPU is the scarcer resource.
        // 15 + 16: a 32 kB window and a gzip header and trailer.
        if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            throw std::runtime_error("gzip: cannot set up zlib's deflate (out of memory?)");
        }
    }
    ~Deflater() { deflateEnd(&stream); }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    // `in` gzipped; valid until the next call.
    std::string_view pack(std::string_view in) {
        if (deflateReset(&stream) != Z_OK) throw std::runtime_error("gzip: deflateReset failed");
        out.resize(deflateBound(&stream, static_cast<uLong>(in.size())));
        // zlib's API takes non-const input; it does not write to it.
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream.avail_in = static_cast<uInt>(in.size());
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        // deflateBound is enough for one Z_FINISH call to finish the stream.
        const int rc = deflate(&stream, Z_FINISH);
        if (rc != Z_STREAM_END) {
            throw std::runtime_error("gzip: deflate did not finish (zlib code " +
                                     std::to_string(rc) + ")");
        }
        return {out.data(), static_cast<std::size_t>(stream.total_out)};
    }
};

BodyBuilder::BodyBuilder() = default;
BodyBuilder::~BodyBuilder() = default;

BulkBody BodyBuilder::build(const std::vector<std::string_view>& items, bool gzip) {
    std::size_t size = 16 + items.size();
    for (const auto item : items) size += item.size();
    _json.clear();
    _json.reserve(size);
    _json += "{\"readings\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) _json += ',';
        _json += items[i];
    }
    _json += "]}";
    BulkBody body{{}, gzip, items.size()};
    if (gzip) {
        if (!_deflater) _deflater = std::make_unique<Deflater>();
        body.bytes = _deflater->pack(_json);
    } else {
        body.bytes = _json;
    }
    return body;
}

BulkBody makeBulkBody(const std::vector<std::string_view>& items, bool gzip) {
    return BodyBuilder().build(items, gzip);
}

BulkAnswer BulkClient::post(const std::vector<std::string>& items, bool gzip) {
    return send(makeBulkBody({items.begin(), items.end()}, gzip));
}

BulkAnswer BulkClient::send(const BulkBody& body) {
    std::string path = _base.getPath();
    while (!path.empty() && path.back() == '/') path.pop_back();
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, path + "/readings/bulk",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.bytes.size()));
    request.setKeepAlive(true);
    if (body.gzip) request.set("Content-Encoding", "gzip");
    if (!_token.empty()) request.set("Authorization", "Bearer " + _token);

    try {
        Session session = takeSession();
        const auto sent = boottime();
        session->sendRequest(request).write(body.bytes.data(),
                                            static_cast<std::streamsize>(body.bytes.size()));
        Poco::Net::HTTPResponse response;
        std::istream& in = session->receiveResponse(response);
        offerServerTime(response, sent);
        std::string answer;
        Poco::StreamCopier::copyToString(in, answer);
        keep(std::move(session));
        return interpretAnswer(static_cast<int>(response.getStatus()), answer,
                               response.get("Retry-After", ""), body.gzip, body.count);
    } catch (const Poco::Exception& e) {
        // No answer: the server may or may not have stored the batch. Resending is safe since
        // reading_id makes the server ignore what it already has.
        return noAnswer(e.displayText());
    } catch (const std::exception& e) {
        // The same from the standard library (an allocation, a stream): never out of the sync
        // thread.
        return noAnswer(e.what());
    }
}

std::chrono::nanoseconds BulkClient::boottime() const {
    return _time ? _time->seam().boottime() : std::chrono::nanoseconds(0);
}

void BulkClient::offerServerTime(const Poco::Net::HTTPResponse& response,
                                 std::chrono::nanoseconds sent) {
    if (!_time) return;
    const auto received = boottime();
    const std::string& header = response.get("X-Server-Time", "");
    if (!header.empty()) _time->offerServerTime(header, sent, received);
}

BulkAnswer BulkClient::noAnswer(const std::string& cause) const {
    BulkAnswer failed;
    failed.kind = AnswerKind::Failed;
    failed.message = "no answer from " + _base.toString() + ": " + cause;
    return failed;
}

std::pair<int, std::string> BulkClient::get(const std::string& path) {
    std::string base = _base.getPath();
    while (!base.empty() && base.back() == '/') base.pop_back();
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, base + path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    if (!_token.empty()) request.set("Authorization", "Bearer " + _token);
    Session session = takeSession();
    const auto sent = boottime();
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    std::istream& in = session->receiveResponse(response);
    offerServerTime(response, sent);
    Poco::StreamCopier::copyToString(in, body);
    keep(std::move(session));
    return {static_cast<int>(response.getStatus()), body};
}

}  // namespace sensorsys::agent
