// The exec plugin's sensor: runs a user's command (split into words without a shell, or through
// /bin/sh -c) with a timeout, and takes the one JSON object it prints on stdout as the reading.
#pragma once

#include <sensorsys/command_runner.hpp>
#include <sensorsys/plugin_support.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace sensorsys::exec {

// The keys create() accepts (ABI 1.1), ended by an entry with a NULL name.
extern const sensorsys_config_key kConfigKeys[];

// Thread-safety: a plain value.
struct Settings {
    std::string command;            // as the user wrote it; names the command in messages
    std::vector<std::string> argv;  // what runs; empty when no command is configured
    std::chrono::milliseconds timeout{10'000};
};

// Throws plugin::ConfigError naming the key and what it allows. `pathVariable` is where a bare
// program name is looked for (the agent's PATH).
Settings parseSettings(const plugin::Config& config, std::string_view pathVariable);

// One configured command.
// Thread-safety: one thread at a time (plugin.h guarantees it per instance).
class ExecSensor {
  public:
    explicit ExecSensor(const plugin::Config& config);
    ExecSensor(Settings settings, std::unique_ptr<const plugin::CommandRunner> runner);

    // Runs the command once. Throws plugin::ReadError naming the command when it cannot run,
    // times out, exits non-zero or by a signal, or prints nothing, more than 64 KiB, or anything
    // but one JSON object.
    std::string read();

  private:
    std::string checkedOutput(const plugin::CommandResult& result) const;

    Settings _settings;
    std::string _label;  // `command "..."`, how messages name the command
    std::unique_ptr<const plugin::CommandRunner> _runner;
};

}  // namespace sensorsys::exec
