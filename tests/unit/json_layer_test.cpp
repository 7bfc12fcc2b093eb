// The agent and the server read JSON with the one reader of common/: the same outputs through
// both entry points (the agent's validatePluginOutput, the server's bulk request parser with the
// output as a sensor's value) are accepted by both or refused by both.
#include "plugin_output.hpp"

#include "api_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sensorsys {
namespace {

bool agentKeeps(const std::string& output) {
    try {
        agent::validatePluginOutput(output);
        return true;
    } catch (const agent::PluginOutputError&) {
        return false;
    }
}

// The server's verdict on a reading whose payload holds output as one sensor's value. The
// server stores any value there; a plugin's output must be an object.
bool serverStores(const std::string& output) {
    const auto first = output.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || output[first] != '{') return false;
    const std::string body =
        R"({"readings": [{"reading_id": "0190f1c2-0000-7000-8000-00000000000a",)"
        R"( "device_id": "pi-test", "ts_utc": "2026-11-27T05:00:00Z",)"
        R"( "ts_local": "2026-11-27T06:00:00+01:00", "payload": {"s": )" +
        output + "}}]}";
    const server::ApiRequest req =
        server::parseRequest("POST", "/readings/bulk", {{"Content-Type", "application/json"}}, body,
                             server::RequestLimits{});
    return !req.error && req.rejected.empty() && req.readings.size() == 1;
}

std::string nested(int levels) {
    return "{\"a\": " + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST(JsonLayer, AgentKeepsExactlyTheOutputsTheServerStores) {
    const std::vector<std::string> outputs = {
        R"({"c": 21.53, "f": 70.75})",
        " {\"a\": [1, -0.5E+3, true, false, null]}\n",
        R"({"a": "\ud83d\ude00", "\\u0000": 1e-999})",
        "{\"deg\": \"\xC2\xB0"
        "C\"}",
        nested(kMaxJsonDepth - kPayloadValueDepth),
        nested(kMaxJsonDepth - kPayloadValueDepth + 1),
        R"({"a": "x\u0000y"})",
        R"({"a": "\ud800"})",
        R"({"a": "\udc00\ud800"})",
        "{\"a\": 1." + std::string(kMaxJsonNumberChars, '0') + "}",
        "{\"a\": 1e-" + std::to_string(kMaxJsonExponent + 1) + "}",
        R"({"a": 01})",
        R"({"a": 1,})",
        R"({"a": NaN})",
        "{\"a\": \"\xFF\"}",
        "{\"a\": \"tab\there\"}",
        R"({"a": 1} {"b": 2})",
        R"([1])",
        R"("text")",
        "",
    };
    for (const std::string& output : outputs) {
        EXPECT_EQ(agentKeeps(output), serverStores(output)) << output;
    }
}

// The agent's own rules on top of the server's: its output cap, and numbers a double holds
// (readings are read back as POCO JSON); the server stores both.
TEST(JsonLayer, AgentRefusesOnlyItsCapAndNumbersPastADoubleBeyondTheServer) {
    const std::string huge = R"({"a": -1e400})";
    EXPECT_TRUE(serverStores(huge));
    try {
        agent::validatePluginOutput(huge);
        FAIL() << "accepted";
    } catch (const agent::PluginOutputError& e) {
        EXPECT_EQ(e.reason(), agent::PluginOutputError::Reason::NotADouble);
    }
    const std::string padded = R"({"pad": "xxxxxxxxxx"})";
    EXPECT_TRUE(serverStores(padded));
    try {
        agent::validatePluginOutput(padded, 10);
        FAIL() << "accepted";
    } catch (const agent::PluginOutputError& e) {
        EXPECT_EQ(e.reason(), agent::PluginOutputError::Reason::TooLarge);
    }
}

}  // namespace
}  // namespace sensorsys
