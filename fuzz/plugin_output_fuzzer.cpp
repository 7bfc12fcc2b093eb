// Fuzz target: the agent's validation of what a plugin's read produced (validatePluginOutput)
// and the error objects that replace a refused output (errorObject). Input: the bytes a plugin
// wrote into its output buffer.
//
// CONTRACT §2: an output is either kept or becomes {"error": ...} for that plugin; it never
// crashes the agent. Checked here beyond that: an accepted output is its own trimmed text and
// is accepted again; and whatever the agent puts into a reading (the output, or an error object
// made from any message, such as a plugin's error text cut at the host's buffer size) is
// stored by the server: a reading the server refuses would be quarantined, losing every
// sensor's value of that tick, not just this plugin's.
#include "fuzz_check.hpp"
#include "plugin_output.hpp"
#include "reading.hpp"

#include "api_request.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys::agent;
using sensorsys::fuzz::fail;
using sensorsys::fuzz::require;

constexpr std::size_t kMessageLimit = 4096;

// The reading the agent would build around one sensor's JSON, sent as the sync's bulk body.
void requireStoredByServer(const std::string& sensorJson, std::string_view what) {
    Reading reading;
    reading.deviceId = "pi-fuzz";
    reading.readingId = "0190f1c2-0000-7000-8000-00000000000a";
    reading.tsUtc = "2026-11-27T05:00:00.000000Z";
    reading.tsLocal = "2026-11-27T06:00:00.000000+01:00";
    reading.payload.push_back(SensorResult{"fuzz", sensorJson, true});
    const std::string body = "{\"readings\":[" + reading.toJson() + "]}";
    namespace server = sensorsys::server;
    const server::ApiRequest req =
        server::parseRequest("POST", "/readings/bulk", {{"Content-Type", "application/json"}}, body,
                             server::RequestLimits{});
    if (req.error) {
        fail(std::string(what) + " makes a reading the server refuses: " + req.error->body(),
             sensorJson);
    }
    require(req.rejected.empty() && req.readings.size() == 1,
            std::string(what) + " makes a reading the server rejects", sensorJson);
}

void checkErrorObject(const std::string& message) {
    const std::string object = errorObject(message);
    std::string again;
    try {
        again = validatePluginOutput(object);
    } catch (const PluginOutputError& e) {
        fail(std::string("errorObject's result is refused by the agent: ") + e.what(), object);
    }
    require(again == object, "errorObject's result is not kept as it is", object);
    requireStoredByServer(object, "errorObject's result");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const std::string accepted = validatePluginOutput(text);
        require(!accepted.empty() && accepted.front() == '{' && accepted.back() == '}',
                "accepted output is not an object's text", accepted);
        require(text.find(accepted) != std::string_view::npos, "accepted output was rewritten",
                accepted);
        require(isValidUtf8(accepted), "accepted output is not valid UTF-8", accepted);
        std::string again;
        try {
            again = validatePluginOutput(accepted);
        } catch (const PluginOutputError& e) {
            fail(std::string("accepted output is refused the second time: ") + e.what(), accepted);
        }
        require(again == accepted, "validation is not idempotent", accepted);
        requireStoredByServer(accepted, "accepted output");
    } catch (const PluginOutputError& e) {
        // What the agent stores instead (sensor_instance.cpp).
        checkErrorObject(std::string("fuzz: ") + e.what());
    }
    // Any message, e.g. a plugin's own error text as the host passes it on: up to the first
    // NUL, and no longer than the host's error buffer (512 bytes, sensor_instance.cpp) plus the
    // context the agent adds, so its error object stays within the output cap.
    checkErrorObject(std::string(text.substr(0, std::min(text.find('\0'), kMessageLimit))));
    return 0;
}
