#include "cpu_temp.hpp"

#include <sensorsys/quote.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <system_error>

namespace sensorsys::cputemp {

namespace {

std::string_view trimmed(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto start = text.find_first_not_of(kSpace);
    if (start == std::string_view::npos) return {};
    return text.substr(start, text.find_last_not_of(kSpace) - start + 1);
}

std::string requireNonEmpty(const plugin::Config& config, const std::string& key,
                            const char* what) {
    std::string value = config.getString(key);
    if (value.empty()) throw plugin::ConfigError("key '" + key + "' must be " + what);
    return value;
}

}  // namespace

const sensorsys_config_key kConfigKeys[] = {
    {"source", "string", "auto", "vcgencmd, sysfs, or auto (vcgencmd, then sysfs)"},
    {"vcgencmd", "string", "vcgencmd", "command to run (looked up in PATH, then /usr/bin)"},
    {"sysfs_path", "string", "/sys/class/thermal/thermal_zone0/temp", "millidegrees file"},
    {nullptr, nullptr, nullptr, nullptr}};

Settings Settings::fromConfig(const plugin::Config& config) {
    Settings settings;
    const std::string source = config.getString("source");
    if (source == "auto") {
        settings.source = Source::automatic;
    } else if (source == "vcgencmd") {
        settings.source = Source::vcgencmd;
    } else if (source == "sysfs") {
        settings.source = Source::sysfs;
    } else {
        throw plugin::ConfigError("key 'source' must be one of auto, vcgencmd, sysfs, got " +
                                  plugin::quoted(source));
    }

    const std::string command = requireNonEmpty(config, "vcgencmd", "a command name or path");
    const char* path = std::getenv("PATH");
    settings.vcgencmd = plugin::resolveCommand(command, path ? path : "");

    settings.sysfsPath = requireNonEmpty(config, "sysfs_path", "the path of a file");
    return settings;
}

double parseMeasureTemp(std::string_view output) {
    const auto refuse = [output]() {
        return plugin::ReadError("unexpected output " + plugin::quoted(output) +
                                 " (expected temp=<number>'C)");
    };
    constexpr std::string_view kPrefix = "temp=";
    constexpr std::string_view kSuffix = "'C";
    const std::string_view text = trimmed(output);
    if (!text.starts_with(kPrefix) || !text.ends_with(kSuffix)) throw refuse();
    const std::string_view number =
        text.substr(kPrefix.size(), text.size() - kPrefix.size() - kSuffix.size());
    double celsius = 0;
    const auto [end, error] =
        std::from_chars(number.data(), number.data() + number.size(), celsius);
    if (number.empty() || error != std::errc() || end != number.data() + number.size() ||
        !std::isfinite(celsius)) {
        throw refuse();
    }
    return celsius;
}

double parseMillidegrees(std::string_view text) {
    const std::string_view number = trimmed(text);
    std::int64_t millidegrees = 0;
    const auto [end, error] =
        std::from_chars(number.data(), number.data() + number.size(), millidegrees);
    if (number.empty() || error != std::errc() || end != number.data() + number.size()) {
        throw plugin::ReadError("unexpected content " + plugin::quoted(text) +
                                " (expected millidegrees Celsius)");
    }
    return static_cast<double>(millidegrees) / 1000.0;
}

std::string formatReading(double celsius) {
    const double fahrenheit = celsius * 9.0 / 5.0 + 32.0;
    return "{\"c\": " + plugin::jsonNumber(plugin::round(celsius, 2)) +
           ", \"f\": " + plugin::jsonNumber(plugin::round(fahrenheit, 2)) + "}";
}

CpuThermometer::CpuThermometer(Settings settings)
    : CpuThermometer(std::move(settings), std::make_unique<plugin::SpawnCommandRunner>(),
                     std::make_unique<SystemFileReader>()) {}

CpuThermometer::CpuThermometer(Settings settings,
                               std::unique_ptr<const plugin::CommandRunner> runner,
                               std::unique_ptr<const FileReader> reader)
    : _settings(std::move(settings)), _runner(std::move(runner)), _reader(std::move(reader)) {}

double CpuThermometer::celsius() const {
    switch (_settings.source) {
        case Source::vcgencmd:
            return fromVcgencmd();
        case Source::sysfs:
            return fromSysfs();
        case Source::automatic:
            break;
    }
    // Off a Pi vcgencmd is simply absent; that is the common case, not worth a log line, so
    // its error only surfaces when sysfs fails too.
    std::string vcgencmdError;
    try {
        return fromVcgencmd();
    } catch (const plugin::ReadError& e) {
        vcgencmdError = e.what();
    }
    try {
        return fromSysfs();
    } catch (const plugin::ReadError& e) {
        throw plugin::ReadError("no CPU temperature source worked: " + vcgencmdError + "; " +
                                e.what());
    }
}

double CpuThermometer::fromVcgencmd() const {
    const std::string& program = _settings.vcgencmd;
    try {
        const plugin::CommandResult result =
            _runner->run({program, "measure_temp"}, _settings.timeout);
        if (!result.succeeded()) throw plugin::ReadError(plugin::describeFailure(program, result));
        return parseMeasureTemp(result.out);
    } catch (const plugin::ReadError& e) {
        throw plugin::ReadError(std::string("vcgencmd: ") + e.what());
    }
}

double CpuThermometer::fromSysfs() const {
    const std::string& path = _settings.sysfsPath;
    std::string text;
    try {
        text = _reader->read(path);
    } catch (const plugin::ReadError& e) {
        throw plugin::ReadError(std::string("sysfs: ") + e.what());
    }
    try {
        return parseMillidegrees(text);
    } catch (const plugin::ReadError& e) {
        // The parser does not know the file; without it the message would not say which zone.
        throw plugin::ReadError("sysfs: " + path + ": " + e.what());
    }
}

}  // namespace sensorsys::cputemp
