#include "exec_sensor.hpp"

#include "exec_words.hpp"

#include <sensorsys/quote.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace sensorsys::exec {

const sensorsys_config_key kConfigKeys[] = {
    {"command", "string", "",
     "the command to run, split into words like a shell does (quotes, backslashes) but with no "
     "expansion; it must print one JSON object on stdout"},
    {"shell", "boolean", "false", "true: run the command through /bin/sh -c instead"},
    {"timeout", "number", "10",
     "seconds before the command and everything it started are killed (0 < timeout <= 3600); "
     "keep it below agent.read_timeout (default 5 s), or the agent gives up on the read first"},
    {}};

namespace {

constexpr double kMaxTimeoutSeconds = 3600;

// The number a string value of `key` spells out in full ("0.5"), else nothing.
std::optional<double> numericString(const plugin::Config& config, const std::string& key) {
    std::string text;
    try {
        text = config.getString(key, "");
    } catch (const plugin::ConfigError&) {
        return std::nullopt;
    }
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
    return value;
}

// The timeout in seconds. A host that does not convert by the declared type (ABI 1.0 hosts turn
// only integers into JSON numbers) passes "0.5" as a string, so a numeric string counts too.
double timeoutSeconds(const plugin::Config& config) {
    try {
        return config.getNumber("timeout");
    } catch (const plugin::ConfigError&) {
        if (const auto seconds = numericString(config, "timeout")) return *seconds;
        throw;
    }
}

std::chrono::milliseconds parseTimeout(const plugin::Config& config) {
    const double seconds = timeoutSeconds(config);
    if (!std::isfinite(seconds) || seconds <= 0 || seconds > kMaxTimeoutSeconds) {
        throw plugin::ConfigError("key 'timeout' must be a number of seconds above 0 and at most " +
                                  plugin::jsonNumber(kMaxTimeoutSeconds) + ", got " +
                                  plugin::jsonNumber(seconds));
    }
    return std::chrono::milliseconds(std::llround(seconds * 1000));
}

std::string trimmed(const std::string& text) {
    constexpr const char* kSpace = " \t\r\n";
    const auto start = text.find_first_not_of(kSpace);
    if (start == std::string::npos) return {};
    return text.substr(start, text.find_last_not_of(kSpace) - start + 1);
}

}  // namespace

Settings parseSettings(const plugin::Config& config, std::string_view pathVariable) {
    Settings settings;
    settings.command = config.getString("command");
    const bool shell = config.getBool("shell");
    settings.timeout = parseTimeout(config);
    if (trimmed(settings.command).empty()) return settings;
    if (shell) {
        settings.argv = {"/bin/sh", "-c", settings.command};
    } else {
        settings.argv = splitWords(settings.command);
        settings.argv.front() = plugin::resolveCommand(settings.argv.front(), pathVariable);
    }
    return settings;
}

namespace {

std::string pathVariable() {
    const char* path = std::getenv("PATH");
    return path ? path : "";
}

}  // namespace

ExecSensor::ExecSensor(const plugin::Config& config)
    : ExecSensor(parseSettings(config, pathVariable()),
                 std::make_unique<plugin::SpawnCommandRunner>()) {}

ExecSensor::ExecSensor(Settings settings, std::unique_ptr<const plugin::CommandRunner> runner)
    : _settings(std::move(settings)),
      _label("command " + plugin::quoted(_settings.command, 120)),
      _runner(std::move(runner)) {}

std::string ExecSensor::read() {
    // Not a configuration error: the agent makes one instance of every plugin it finds, and an
    // unconfigured exec must not stop it from starting.
    if (_settings.argv.empty()) {
        throw plugin::ReadError("no command configured (set sensor.NAME.command)");
    }
    plugin::CommandResult result;
    try {
        result = _runner->run(_settings.argv, _settings.timeout);
    } catch (const plugin::ReadError& e) {
        throw plugin::ReadError(_label + ": " + e.what());
    }
    return checkedOutput(result);
}

std::string ExecSensor::checkedOutput(const plugin::CommandResult& result) const {
    if (!result.succeeded()) {
        throw plugin::ReadError(plugin::describeFailure(_label, result, plugin::StderrLine::Last));
    }
    if (result.outTruncated) {
        throw plugin::ReadError(_label + " printed more than " +
                                std::to_string(plugin::kOutputCap / 1024) + " KiB on stdout");
    }
    std::string text = trimmed(result.out);
    if (text.empty()) throw plugin::ReadError(_label + " printed nothing on stdout");
    try {
        const Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(text);
        if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) return text;
    } catch (const Poco::Exception&) {
        // reported below, with what was printed
    }
    throw plugin::ReadError(_label +
                            " printed no single JSON object on stdout: " + plugin::quoted(text));
}

}  // namespace sensorsys::exec
