// Fuzz target: the JSON layer the agent and the server share (common/json_cursor, json_text),
// through both of its entry points on the same input: the agent's validation of what a plugin's
// read produced (validatePluginOutput), with the error objects that replace a refused output
// (errorObject), and the server's bulk request parser with the input as one sensor's value in a
// reading's payload. Input: the bytes a plugin wrote into its output buffer.
//
// docs/contract.md §2: an output is either kept or becomes {"error": ...} for that plugin; it never
// crashes the agent. Checked here beyond that: the agent keeps an output exactly when the server
// stores it (but for the agent's own cap and its numbers-fit-a-double rule); an accepted output
// is its own trimmed text and is accepted again; and whatever the agent puts into a reading (the
// output, or an error object made from any message, such as a plugin's error text cut at the
// host's buffer size) is stored by the server: a reading the server refuses would be
// quarantined, losing every sensor's value of that tick, not just this plugin's.
#include "fuzz_check.hpp"
#include "plugin_output.hpp"
#include "reading.hpp"

#include "api_request.hpp"

#include <sensorsys/common/json_cursor.hpp>
#include <sensorsys/common/json_text.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sensorsys;
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

// The server's verdict on the input as one sensor's value of a reading (the server's own
// reading-payload path), for an input that is one object: a plugin's output must be one
// (docs/contract.md §2) while the server stores any value, and spliced into the body, text such as
// `{}, "b": {}` would be read as more than one value.
bool serverStoresAsSensorValue(std::string_view text) {
    try {
        JsonCursor alone(text);
        if (alone.peek() != JsonCursor::Kind::Object) return false;
        alone.skipValue(0);
        alone.end();
    } catch (const JsonSyntaxError&) {
        return false;
    }
    const std::string body = R"({"readings":[{"reading_id":"0190f1c2-0000-7000-8000-00000000000a",)"
                             R"("device_id":"pi-fuzz","ts_utc":"2026-11-27T05:00:00Z",)"
                             R"("ts_local":"2026-11-27T06:00:00+01:00","payload":{"fuzz":)" +
                             std::string(text) + "}}]}";
    namespace server = sensorsys::server;
    const server::ApiRequest req =
        server::parseRequest("POST", "/readings/bulk", {{"Content-Type", "application/json"}}, body,
                             server::RequestLimits{});
    return !req.error && req.rejected.empty() && req.readings.size() == 1;
}

// The agent and the server agree on the input, but for the agent's own rules.
void requireAgreement(std::string_view text, bool agentKeeps, PluginOutputError::Reason reason) {
    const bool serverStores = serverStoresAsSensorValue(text);
    if (agentKeeps) {
        require(serverStores, "the agent keeps an output the server does not store", text);
        return;
    }
    require(!serverStores || reason == PluginOutputError::Reason::TooLarge ||
                reason == PluginOutputError::Reason::NotADouble,
            "the agent refuses an output the server stores", text);
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
        requireAgreement(text, true, PluginOutputError::Reason::Other);
    } catch (const PluginOutputError& e) {
        requireAgreement(text, false, e.reason());
        // What the agent stores instead (sensor_instance.cpp).
        checkErrorObject(std::string("fuzz: ") + e.what());
    }
    // Any message, e.g. a plugin's own error text as the host passes it on: up to the first
    // NUL, and no longer than the host's error buffer (512 bytes, sensor_instance.cpp) plus the
    // context the agent adds, so its error object stays within the output cap.
    checkErrorObject(std::string(text.substr(0, std::min(text.find('\0'), kMessageLimit))));
    return 0;
}
