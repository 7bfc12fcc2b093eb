// The server's own strict HTTP/1.1 framing layer (server/src/http_framing.*) against llhttp,
// Node.js's parser, on the heads the server sees most: an agent's bulk POST and a dashboard's
// GET. Both sides do the work the server needs per request: find the end of the header
// section, split the request line and the fields into strings, and decide the body's length;
// ours also checks the limits (414/431), Host and the framing rules and writes the canonical
// head POCO parses. The result decides whether to replace the hand-written layer (bench/README.md,
// "Framing: own layer or llhttp").
//
//   build/default/bench/sensorsys_framing_bench [--benchmark_repetitions=5]
#include "http_framing.hpp"

#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace sensorsys::server;

const std::string kBulkPost =
    "POST /readings/bulk HTTP/1.1\r\nHost: 192.168.1.20:8080\r\n"
    "User-Agent: sensorsys-agent/1.0\r\n"
    "Authorization: Bearer 3q2+7w8BAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs\r\n"
    "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 18234\r\n"
    "Accept: */*\r\nConnection: keep-alive\r\n\r\n";
const std::string kLatestGet =
    "GET /readings/latest?device_id=pi-greenhouse HTTP/1.1\r\nHost: sensors.lan\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux aarch64) Chrome/120.0\r\nAccept: application/json\r\n"
    "Accept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n\r\n";

void ours(benchmark::State& state, const std::string& head) {
    const HeadLimits limits;
    for (auto _ : state) {
        const HeadScan scan = scanHead(head, limits);
        HeadParse parsed = parseHead(std::string_view(head).substr(0, scan.headBytes), limits);
        std::string canonical = parsed.head.canonical();
        benchmark::DoNotOptimize(canonical);
        benchmark::DoNotOptimize(parsed);
    }
}

// What llhttp's callbacks hand over, collected into the same shape as RequestHead.
struct Collected {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> fields;
    bool inValue = false;
    bool done = false;
};

Collected& of(llhttp_t* p) {
    return *static_cast<Collected*>(p->data);
}

void llhttp(benchmark::State& state, const std::string& head) {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_method = [](llhttp_t* p, const char* at, std::size_t n) {
        of(p).method.append(at, n);
        return 0;
    };
    settings.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
        of(p).target.append(at, n);
        return 0;
    };
    settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
        auto& c = of(p);
        if (c.inValue || c.fields.empty()) c.fields.emplace_back();
        c.inValue = false;
        c.fields.back().first.append(at, n);
        return 0;
    };
    settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
        of(p).inValue = true;
        of(p).fields.back().second.append(at, n);
        return 0;
    };
    settings.on_headers_complete = [](llhttp_t* p) {
        of(p).done = true;
        return static_cast<int>(HPE_PAUSED);
    };
    for (auto _ : state) {
        Collected collected;
        llhttp_t parser;
        llhttp_init(&parser, HTTP_REQUEST, &settings);
        parser.data = &collected;
        llhttp_execute(&parser, head.data(), head.size());
        benchmark::DoNotOptimize(parser.content_length);
        benchmark::DoNotOptimize(collected);
    }
}

}  // namespace

BENCHMARK_CAPTURE(ours, agent_bulk_post, kBulkPost);
BENCHMARK_CAPTURE(llhttp, agent_bulk_post, kBulkPost);
BENCHMARK_CAPTURE(ours, browser_latest_get, kLatestGet);
BENCHMARK_CAPTURE(llhttp, browser_latest_get, kLatestGet);

BENCHMARK_MAIN();
