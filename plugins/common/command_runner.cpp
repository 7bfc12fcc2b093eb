#include "sensorsys/command_runner.hpp"

#include "sensorsys/quote.hpp"
#include "sensorsys/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <sensorsys/plugin_support.hpp>

namespace sensorsys::plugin {

namespace {

// How often the exit of a child that already closed its output is checked.
constexpr int kReapPollMs = 5;

using Clock = std::chrono::steady_clock;

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

// Close-on-exec, so children that other threads spawn at the same time do not inherit our
// ends and keep them open (which would delay EOF here).
Pipe makePipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw plugin::ReadError("cannot create pipe: " + plugin::errnoText(errno));
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn's attribute and file-action objects, destroyed on every path.
// Thread-safety: one owner.
class SpawnSetup {
  public:
    SpawnSetup(int stdoutFd, int stderrFd) {
        check(::posix_spawn_file_actions_init(&_actions));
        _actionsReady = true;
        check(::posix_spawnattr_init(&_attributes));
        _attributesReady = true;

        check(
            ::posix_spawn_file_actions_addopen(&_actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0));
        check(::posix_spawn_file_actions_adddup2(&_actions, stdoutFd, STDOUT_FILENO));
        check(::posix_spawn_file_actions_adddup2(&_actions, stderrFd, STDERR_FILENO));

        // Own process group: a timeout kills the child and whatever it started with one kill().
        // Clean signal state: the agent may block signals in its threads or ignore SIGPIPE,
        // and a child must not inherit either.
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (const int signal : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) {
            sigaddset(&defaults, signal);
        }
        check(::posix_spawnattr_setpgroup(&_attributes, 0));
        check(::posix_spawnattr_setsigmask(&_attributes, &none));
        check(::posix_spawnattr_setsigdefault(&_attributes, &defaults));
        check(::posix_spawnattr_setflags(
            &_attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup() {
        if (_attributesReady) ::posix_spawnattr_destroy(&_attributes);
        if (_actionsReady) ::posix_spawn_file_actions_destroy(&_actions);
    }

    const posix_spawn_file_actions_t* actions() const { return &_actions; }
    const posix_spawnattr_t* attributes() const { return &_attributes; }

  private:
    static void check(int error) {
        if (error != 0) {
            throw plugin::ReadError("cannot prepare process: " + plugin::errnoText(error));
        }
    }

    posix_spawn_file_actions_t _actions{};
    posix_spawnattr_t _attributes{};
    bool _actionsReady = false;
    bool _attributesReady = false;
};

// A started child that leads its own process group. Until it has been reaped, destruction kills
// the group and reaps the child, so no path (exceptions included) leaves a zombie or a stray
// process behind.
// Thread-safety: one owner.
class Child {
  public:
    explicit Child(pid_t pid) : _pid(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (_pid > 0) {
            killGroup();
            reap();
        }
    }

    void killGroup() const noexcept { ::kill(-_pid, SIGKILL); }

    // Blocks; only called once the child is known to be dying.
    int reap() noexcept {
        int status = 0;
        while (::waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
        }
        _pid = -1;
        return status;
    }

    // The wait status if the child has exited, nullopt while it runs.
    std::optional<int> tryReap() {
        int status = 0;
        for (;;) {
            const pid_t done = ::waitpid(_pid, &status, WNOHANG);
            if (done == _pid) {
                _pid = -1;
                return status;
            }
            if (done == 0) return std::nullopt;
            if (errno == EINTR) continue;
            // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN in the host); the exit
            // status is lost.
            const int error = errno;
            _pid = -1;
            throw plugin::ReadError("cannot wait for child: " + plugin::errnoText(error));
        }
    }

  private:
    pid_t _pid;
};

int millisecondsUntil(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

std::string durationText(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// What is kept of one output stream: the head of stdout, the tail of stderr.
// Thread-safety: one owner.
struct Capture {
    std::string* text;
    bool keepTail;
    std::size_t cap;
    bool* truncated;  // set when bytes were dropped from the head's end; may be null
};

// Reads what is available on `fd` into the capture (the rest is drained so the child never
// blocks on a full pipe). Returns false at end of file.
bool drain(int fd, const Capture& capture) {
    std::array<char, 4096> chunk{};
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    std::string& text = *capture.text;
    const auto got = static_cast<std::size_t>(n);
    if (capture.keepTail) {
        text.append(chunk.data(), got);
        if (text.size() > capture.cap) text.erase(0, text.size() - capture.cap);
        return true;
    }
    const std::size_t room = capture.cap - std::min(capture.cap, text.size());
    text.append(chunk.data(), std::min(room, got));
    if (got > room && capture.truncated) *capture.truncated = true;
    return true;
}

std::string firstLine(std::string_view text) {
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return {};
    text.remove_prefix(start);
    text = text.substr(0, text.find_first_of("\r\n"));
    return std::string(text);
}

std::string lastLine(std::string_view text) {
    const auto end = text.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos) return {};
    text = text.substr(0, end + 1);
    const auto newline = text.find_last_of("\r\n");
    if (newline != std::string_view::npos) text.remove_prefix(newline + 1);
    return std::string(text);
}

// Starts argv[0] in its own process group with stdout and stderr on the given descriptors.
// argv is complete before posix_spawn, so nothing is allocated in the child.
pid_t spawn(const std::vector<std::string>& argv, int stdoutFd, int stderrFd) {
    const std::string& program = argv.front();
    const SpawnSetup setup(stdoutFd, stderrFd);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    // posix_spawn's signature predates const; it does not modify the arguments.
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int error = ::posix_spawn(&pid, program.c_str(), setup.actions(), setup.attributes(),
                                    args.data(), environ);
    if (error == ENOENT) throw plugin::ReadError(program + " not found (ENOENT)");
    if (error != 0) {
        throw plugin::ReadError("cannot run " + program + ": " + plugin::errnoText(error));
    }
    return pid;
}

}  // namespace

bool CommandResult::succeeded() const {
    return WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0;
}

CommandResult SpawnCommandRunner::run(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) const {
    if (argv.empty()) throw plugin::ReadError("no program to run");
    const std::string& program = argv.front();
    const Clock::time_point deadline = Clock::now() + timeout;

    Pipe out = makePipe();
    Pipe err = makePipe();
    Child child(spawn(argv, out.write.get(), err.write.get()));
    // Only the child may hold the write ends now, or EOF would never come.
    out.write.reset();
    err.write.reset();

    const auto timedOut = [&]() {
        child.killGroup();
        child.reap();
        return plugin::ReadError(program + " did not answer within " + durationText(timeout) +
                                 " (killed)");
    };

    CommandResult result;
    std::array<pollfd, 2> fds{pollfd{out.read.get(), POLLIN, 0}, pollfd{err.read.get(), POLLIN, 0}};
    const std::array<Capture, 2> captures{
        Capture{&result.out, false, kOutputCap, &result.outTruncated},
        Capture{&result.err, true, kErrorCap, nullptr}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const int wait = millisecondsUntil(deadline);
        if (wait == 0) throw timedOut();
        // poll() skips entries with a negative fd, so closed streams just drop out.
        const int ready = ::poll(fds.data(), fds.size(), wait);
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw plugin::ReadError("cannot wait for " + program + ": " + plugin::errnoText(errno));
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            if (!drain(fds[i].fd, captures[i])) fds[i].fd = -1;
        }
    }

    // Both streams are closed, so the child is normally exiting already; still bounded, since a
    // program may close its output and carry on.
    for (;;) {
        if (const auto status = child.tryReap()) {
            result.waitStatus = *status;
            return result;
        }
        if (millisecondsUntil(deadline) == 0) throw timedOut();
        ::poll(nullptr, 0, std::min(kReapPollMs, millisecondsUntil(deadline)));
    }
}

std::string describeFailure(const std::string& program, const CommandResult& result,
                            StderrLine line) {
    std::string text;
    const int status = result.waitStatus;
    if (WIFEXITED(status)) {
        text = program + " exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        const int signal = WTERMSIG(status);
        const char* name = ::sigabbrev_np(signal);
        text = program + " was killed by signal " + std::to_string(signal) +
               (name ? std::string(" (SIG") + name + ")" : std::string());
    } else {
        text = program + " ended with wait status " + std::to_string(status);
    }
    std::string detail = line == StderrLine::First ? firstLine(result.err) : lastLine(result.err);
    if (detail.empty()) detail = firstLine(result.out);
    if (!detail.empty()) text += ": " + quoted(detail);
    return text;
}

std::string resolveCommand(const std::string& name, std::string_view pathVariable) {
    if (name.find('/') != std::string::npos) return name;
    while (!pathVariable.empty()) {
        const std::size_t colon = pathVariable.find(':');
        const std::string_view directory = pathVariable.substr(0, colon);
        pathVariable =
            colon == std::string_view::npos ? std::string_view() : pathVariable.substr(colon + 1);
        // An empty entry would mean the working directory: a daemon should not run whatever
        // happens to lie there.
        if (directory.empty()) continue;
        std::string candidate = std::string(directory) + "/" + name;
        struct stat info {};
        if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return "/usr/bin/" + name;
}

}  // namespace sensorsys::plugin
