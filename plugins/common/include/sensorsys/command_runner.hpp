// Running an external program without a shell, bounded in time and in output: the one process
// runner of our plugins (cpu_temp's vcgencmd, exec's user scripts). Part of the
// sensorsys_command_runner library. Thread-safety: see each declaration.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::plugin {

// What a program that ran to its end left behind.
// Thread-safety: a plain value.
struct CommandResult {
    int waitStatus = 0;         // as reported by waitpid()
    std::string out;            // stdout, its first kOutputCap bytes
    std::string err;            // stderr, its last kErrorCap bytes (the last lines say why)
    bool outTruncated = false;  // stdout went past kOutputCap; the rest was read and dropped

    bool succeeded() const;
};

// How much of a program's stdout a result keeps (64 KiB, the size of one reading at most).
inline constexpr std::size_t kOutputCap = 64 * 1024;
// How much of the end of its stderr a result keeps.
inline constexpr std::size_t kErrorCap = 4 * 1024;

// Which line of a failed program's stderr describeFailure() quotes.
enum class StderrLine { First, Last };

// The seam between the sensor and process creation, so the sensor logic can be tested with a
// fake when a real program would make a case slow or impossible to provoke.
// Thread-safety: run() is const and may be called from several threads at once.
class CommandRunner {
  public:
    virtual ~CommandRunner() = default;

    // Runs argv[0] (a path; no PATH lookup) with argv as its arguments and waits for it.
    // Throws plugin::ReadError when the program cannot be started or has not finished within
    // `timeout`, in which case it and everything it started have been killed and reaped.
    virtual CommandResult run(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) const = 0;
};

// The production runner: posix_spawn into a new process group, stdin from /dev/null, stdout and
// stderr through pipes; on timeout the whole group gets SIGKILL so a wedged helper cannot
// outlive the read.
// Thread-safety: stateless; concurrent run() calls are independent.
class SpawnCommandRunner final : public CommandRunner {
  public:
    CommandResult run(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout) const override;
};

// Why a finished program counts as failed, for error messages: its exit status or signal,
// followed by the first (or last) line it printed on stderr (or the first one of stdout), e.g.
// "/usr/bin/vcgencmd exited with status 255: \"VCHI initialization failed\"".
std::string describeFailure(const std::string& program, const CommandResult& result,
                            StderrLine line = StderrLine::First);

// Where `name` runs from: a name containing '/' is used as it is; a bare name is looked up in
// the directories of `pathVariable` (a PATH value) and otherwise taken from /usr/bin, where
// Raspberry Pi OS installs vcgencmd even when a service runs with a minimal PATH.
std::string resolveCommand(const std::string& name, std::string_view pathVariable);

}  // namespace sensorsys::plugin
