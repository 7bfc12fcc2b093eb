// Running an external program (vcgencmd) without a shell, bounded in time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::cputemp {

// What a program that ran to its end left behind.
struct CommandResult {
    int waitStatus = 0;  // as reported by waitpid()
    std::string out;     // stdout, capped at a size no sane vcgencmd reaches
    std::string err;     // stderr, capped likewise

    bool succeeded() const;
};

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
// followed by the first line it printed on stderr (or stdout), e.g.
// "/usr/bin/vcgencmd exited with status 255: VCHI initialization failed".
std::string describeFailure(const std::string& program, const CommandResult& result);

// Where `name` runs from: a name containing '/' is used as it is; a bare name is looked up in
// the directories of `pathVariable` (a PATH value) and otherwise taken from /usr/bin, where
// Raspberry Pi OS installs vcgencmd even when a service runs with a minimal PATH.
std::string resolveCommand(const std::string& name, std::string_view pathVariable);

}  // namespace sensorsys::cputemp
