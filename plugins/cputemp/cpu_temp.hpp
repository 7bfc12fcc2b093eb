// The cpu_temp sensor's logic: configuration, the two sources, parsing and the JSON reading.
#pragma once

#include <sensorsys/command_runner.hpp>
#include <sensorsys/plugin_support.hpp>
#include "file_reader.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace sensorsys::cputemp {

enum class Source { automatic, vcgencmd, sysfs };

// The keys an instance accepts, with their defaults (ended by a NULL name).
extern const sensorsys_config_key kConfigKeys[];

// An instance's validated configuration.
struct Settings {
    Source source = Source::automatic;
    std::string vcgencmd = "/usr/bin/vcgencmd";  // already resolved (see resolveCommand)
    std::string sysfsPath;
    // Long enough for a loaded Pi (vcgencmd answers in ~10 ms), short enough that auto mode
    // still falls back to sysfs well inside a read interval. Not configurable by contract.
    std::chrono::milliseconds timeout{2000};

    // Keys: source (auto|vcgencmd|sysfs), vcgencmd, sysfs_path. Resolves vcgencmd against the
    // process's PATH now, so reads do not touch the environment. Throws plugin::ConfigError.
    static Settings fromConfig(const plugin::Config& config);
};

// Degrees Celsius from vcgencmd's "temp=55.8'C" (surrounding whitespace tolerated).
// Throws plugin::ReadError quoting what was read.
double parseMeasureTemp(std::string_view output);

// Degrees Celsius from a thermal zone's millidegrees ("48312\n" -> 48.312).
// Throws plugin::ReadError quoting what was read.
double parseMillidegrees(std::string_view text);

// {"c": 48.31, "f": 118.96}: both rounded to 2 decimals, f computed from the unrounded c.
std::string formatReading(double celsius);

// Reads the CPU temperature from the configured source; in auto mode vcgencmd first (what the
// seed used, and the firmware's own sensor on a Pi), then the kernel thermal zone.
// Errors are plugin::ReadError prefixed with the source ("vcgencmd: ...", "sysfs: ..."); in auto
// mode one message carries both causes.
// Thread-safety: immutable after construction; celsius() may run on several threads at once.
class CpuThermometer {
  public:
    explicit CpuThermometer(Settings settings);
    CpuThermometer(Settings settings, std::unique_ptr<const plugin::CommandRunner> runner,
                   std::unique_ptr<const FileReader> reader);

    double celsius() const;
    const Settings& settings() const { return _settings; }

  private:
    double fromVcgencmd() const;
    double fromSysfs() const;

    Settings _settings;
    std::unique_ptr<const plugin::CommandRunner> _runner;
    std::unique_ptr<const FileReader> _reader;
};

}  // namespace sensorsys::cputemp
