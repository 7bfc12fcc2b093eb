#include "hosted_plugin.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <system_error>
#include <vector>

#include "host_protocol.hpp"
#include "plugin_output.hpp"
#include "sensor_instance.hpp"

namespace sensorsys::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kDestroyWait{1'000};
constexpr std::chrono::milliseconds kCreateGrace{500};

// Owns one descriptor.
class Fd {
  public:
    explicit Fd(int fd = -1) : _fd(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            _fd = std::exchange(other._fd, -1);
        }
        return *this;
    }
    int get() const { return _fd; }
    void reset() {
        if (_fd >= 0) ::close(_fd);
        _fd = -1;
    }

  private:
    int _fd;
};

[[noreturn]] void throwErrno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

std::string seconds(std::chrono::milliseconds ms) {
    const auto count = ms.count();
    return count % 1000 == 0 ? std::to_string(count / 1000) + " s" : std::to_string(count) + " ms";
}

// "SIGSEGV", "exit status 3".
std::string describeStatus(int status) {
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return name ? std::string("SIG") + name : "signal " + std::to_string(WTERMSIG(status));
    }
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    return "status " + std::to_string(status);
}

}  // namespace

// One running sensorsys-plugin-host: its pid, the protocol channel and its output pipe.
class HostProcess {
  public:
    enum class Outcome { Answered, Died, TimedOut };

    HostProcess(const HostOptions& options, const std::string& sensor,
                const std::filesystem::path& plugin_file);
    ~HostProcess() { killAndReap(); }
    HostProcess(const HostProcess&) = delete;
    HostProcess& operator=(const HostProcess&) = delete;

    // Sends `request` and waits until `until` for the answer, logging the host's output.
    Outcome call(const std::string& request, Clock::time_point until, Frame& reply);
    // SIGKILL unless it has died already; returns how it ended ("SIGSEGV", "exit status 1").
    std::string killAndReap();

  private:
    void spawn(const HostOptions& options, const std::filesystem::path& plugin_file,
               const Fd& child_channel, const Fd& output);
    // Logs every complete line the host wrote; false once the pipe is at its end.
    bool drainOutput();

    std::string _sensor;
    Poco::Logger* _logger;
    pid_t _pid = -1;
    Fd _channel;
    Fd _output;
    std::string _partialLine;
    FrameDecoder _decoder;
    std::optional<int> _status;
};

HostProcess::HostProcess(const HostOptions& options, const std::string& sensor,
                         const std::filesystem::path& plugin_file)
    : _sensor(sensor), _logger(options.logger) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throwErrno("socketpair");
    _channel = Fd(pair[0]);
    Fd child_channel(pair[1]);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throwErrno("pipe");
    _output = Fd(pipe_fds[0]);
    Fd output_writer(pipe_fds[1]);
    ::fcntl(_output.get(), F_SETFL, O_NONBLOCK);
    spawn(options, plugin_file, child_channel, output_writer);
}

void HostProcess::spawn(const HostOptions& options, const std::filesystem::path& plugin_file,
                        const Fd& child_channel, const Fd& output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, output.get(), 2);
    posix_spawn_file_actions_adddup2(&actions, child_channel.get(), 3);
    posix_spawn_file_actions_addchdir_np(&actions, "/");
    const std::string binary = options.hostBinary.string();
    const std::string file = std::filesystem::absolute(plugin_file).string();
    const std::string memory = std::to_string(options.memoryMax);
    std::vector<char*> argv{const_cast<char*>(binary.c_str()), const_cast<char*>(file.c_str()),
                            const_cast<char*>(_sensor.c_str()), const_cast<char*>(memory.c_str()),
                            nullptr};
    // A clean environment: nothing of the agent's (tokens, TZ, LD_PRELOAD) reaches plugins.
    std::string path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    std::vector<char*> envp{path.data(), nullptr};
    // Nor the agent's signal mask or ignored signals (the pool thread may block some).
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int failed =
        ::posix_spawn(&_pid, binary.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) {
        _pid = -1;
        errno = failed;
        throwErrno("cannot start " + binary);
    }
}

bool HostProcess::drainOutput() {
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(_output.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno == EAGAIN;
        if (n == 0) {
            if (!_partialLine.empty() && _logger) {
                _logger->information("sensor '" + _sensor + "': " + _partialLine);
            }
            _partialLine.clear();
            return false;
        }
        _partialLine.append(chunk, static_cast<std::size_t>(n));
        std::size_t end;
        while ((end = _partialLine.find('\n')) != std::string::npos) {
            if (_logger) {
                _logger->information("sensor '" + _sensor + "': " + _partialLine.substr(0, end));
            }
            _partialLine.erase(0, end + 1);
        }
        // A line without an end must not grow without bound.
        if (_partialLine.size() > 4096) {
            if (_logger) _logger->information("sensor '" + _sensor + "': " + _partialLine);
            _partialLine.clear();
        }
    }
}

HostProcess::Outcome HostProcess::call(const std::string& request, Clock::time_point until,
                                       Frame& reply) {
    if (::send(_channel.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return Outcome::Died;
    }
    bool output_open = _output.get() >= 0;
    for (;;) {
        std::optional<Frame> frame;
        try {
            frame = _decoder.next();
        } catch (const FrameError&) {
            return Outcome::Died;  // a stream out of step cannot be trusted again
        }
        if (frame) {
            reply = std::move(*frame);
            if (output_open) drainOutput();
            return Outcome::Answered;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0) return Outcome::TimedOut;
        pollfd fds[2] = {{_channel.get(), POLLIN, 0},
                         {output_open ? _output.get() : -1, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            return Outcome::Died;
        }
        if (fds[1].revents != 0) output_open = drainOutput();
        if (fds[0].revents == 0) continue;
        char chunk[8192];
        const ssize_t n = ::recv(_channel.get(), chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Outcome::Died;
        _decoder.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    }
}

std::string HostProcess::killAndReap() {
    if (_status) return describeStatus(*_status);
    if (_pid <= 0) return "not started";
    ::kill(_pid, SIGKILL);
    int status = 0;
    while (::waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
    }
    _status = status;
    if (_output.get() >= 0) drainOutput();
    return describeStatus(status);
}

HostedPlugin::HostedPlugin(std::string sensor, std::filesystem::path plugin_file,
                           std::string config, HostOptions options)
    : _sensor(std::move(sensor)),
      _pluginFile(std::move(plugin_file)),
      _config(std::move(config)),
      _options(std::move(options)) {}

HostedPlugin::~HostedPlugin() {
    // The plugin's destroy gets a moment to release its device; the host is killed after it.
    if (_process && _created) {
        Frame reply;
        _process->call(encodeFrame(FrameKind::Destroy), Clock::now() + kDestroyWait, reply);
    }
}

std::filesystem::path HostedPlugin::defaultHostBinary() {
    if (const char* chosen = std::getenv("SENSORSYS_PLUGIN_HOST"); chosen && *chosen) {
        return chosen;
    }
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (ec ? std::filesystem::path("/usr/bin") : self.parent_path()) / "sensorsys-plugin-host";
}

std::string HostedPlugin::retryText() const {
    const auto left = std::chrono::ceil<std::chrono::seconds>(_retryAt - Clock::now());
    return _lastFailure + "; restart " + std::to_string(_restarts.load() + 1) + " in " +
           std::to_string(std::max<long long>(left.count(), 1)) + " s";
}

std::string HostedPlugin::ensureHost() {
    if (_process) return {};
    if (_failedBefore && Clock::now() < _retryAt) return retryText();
    try {
        _process = std::make_unique<HostProcess>(_options, _sensor, _pluginFile);
    } catch (const std::exception& e) {
        return failed(std::string("plugin host did not start: ") + e.what(), "start");
    }
    if (_failedBefore) {
        ++_restarts;
        if (_options.logger) {
            _options.logger->information("sensor '" + _sensor + "': plugin host for " +
                                         _pluginFile.string() + " restarted (restart " +
                                         std::to_string(_restarts.load()) + ")");
        }
    }
    _startedAt = Clock::now();
    _created = false;
    return {};
}

// Kills and reaps the host, schedules the next start and says what happened.
std::string HostedPlugin::failed(const std::string& what, const std::string& during) {
    std::string how;
    if (_process) how = _process->killAndReap();
    _process.reset();
    _created = false;
    const auto now = Clock::now();
    // A host that ran well for a while starts the backoff over.
    if (_startedAt != Clock::time_point{} && now - _startedAt >= kMaxBackoff) {
        _backoff = kFirstBackoff;
    }
    _retryAt = now + _backoff;
    const auto waited = _backoff;
    _backoff = std::min(_backoff * 2, kMaxBackoff);
    _failedBefore = true;
    const std::string where = " during " + during + " of sensor '" + _sensor + "' (plugin file " +
                              _pluginFile.string() + ")";
    _lastFailure = what.empty() ? "plugin host crashed (" + how + ")" + where : what + where;
    const std::string text = _lastFailure + "; restart " + std::to_string(_restarts.load() + 1) +
                             " in " + seconds(waited);
    if (_options.logger) _options.logger->warning(text);
    return text;
}

std::string HostedPlugin::create() {
    if (_created && _process) return {};
    if (std::string why = ensureHost(); !why.empty()) return why;
    Frame reply;
    // Just past the reader's own deadline for creates, so that one reports the slow create in
    // its usual words ("timeout: create of ..."); the host is killed right after.
    const auto outcome =
        _process->call(encodeFrame(FrameKind::Create, _config),
                       Clock::now() + _options.createTimeout + kCreateGrace, reply);
    if (outcome == HostProcess::Outcome::TimedOut) {
        return failed("timeout: plugin host timed out after " + seconds(_options.createTimeout),
                      "create");
    }
    if (outcome == HostProcess::Outcome::Died) return failed({}, "create");
    if (reply.kind == FrameKind::Ok) {
        _created = true;
        return {};
    }
    if (reply.kind == FrameKind::Refused) throw SensorConfigError(reply.text);
    return reply.text;
}

std::string HostedPlugin::read() {
    if (std::string why = create(); !why.empty()) return errorObject(why);
    // Just inside the reader's own deadline, so this sensor's error says what happened.
    const auto margin = std::min(_options.readTimeout / 10, std::chrono::milliseconds(200));
    Frame reply;
    const auto outcome = _process->call(encodeFrame(FrameKind::Read),
                                        Clock::now() + _options.readTimeout - margin, reply);
    if (outcome == HostProcess::Outcome::TimedOut) {
        return errorObject(failed(
            "timeout: plugin host timed out after " + seconds(_options.readTimeout), "read"));
    }
    if (outcome == HostProcess::Outcome::Died) return errorObject(failed({}, "read"));
    if (reply.kind != FrameKind::Ok)
        return errorObject(failed("plugin host broke the protocol", "read"));
    try {
        // Checked again: the host runs plugin code and may hand over anything.
        return validatePluginOutput(reply.text, kDefaultOutputCap);
    } catch (const std::exception& e) {
        return errorObject("plugin host: " + std::string(e.what()));
    }
}

}  // namespace sensorsys::agent
