// sensorsys-plugin-host: runs one sensor plugin instance in a process of its own, so that a
// plugin that crashes, hangs, leaks or changes process state cannot take the agent with it.
// Started by the agent (hosted_plugin.cpp) as
//   sensorsys-plugin-host PLUGIN_FILE SENSOR_NAME MEMORY_MAX_BYTES
// with the protocol channel (host_protocol.hpp) on fd 3 and stdout/stderr going to the agent's
// log. It loads the plugin with the agent's own loader and calls it through the agent's own
// SensorInstance, so every check of thread mode applies here too.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "host_protocol.hpp"
#include "plugin_loader.hpp"
#include "sensor_instance.hpp"

namespace {

using namespace sensorsys::agent;

constexpr int kChannel = 3;

// Exits without destructors: a plugin may leave threads running that a normal exit's teardown
// would crash into (the agent does the same).
[[noreturn]] void leave(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
}

// Ends the host when the agent goes away (its end of the channel closes), even while a plugin
// call hangs on the main thread and however the agent ended.
void* watchAgent(void*) {
    for (;;) {
        pollfd fd{kChannel, POLLRDHUP, 0};
        if (::poll(&fd, 1, -1) > 0 && (fd.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0) {
            std::_Exit(0);
        }
    }
}

bool startWatchdog() {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t thread;
    const bool started = pthread_create(&thread, &attributes, watchAgent, nullptr) == 0;
    pthread_attr_destroy(&attributes);
    if (started) pthread_detach(thread);
    return started;
}

// A process of its own: what the agent's working directory, umask and descriptors are is no
// business of the plugin, and nothing it changes here reaches the agent.
void settle(rlim_t memory_max) {
    for (int fd = kChannel + 1; fd < 1024; ++fd) ::close(fd);
    // A plugin's crash must end the host by that very signal, whatever a runtime (a
    // sanitizer's report) installed, so the agent can name it.
    for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT}) {
        std::signal(sig, SIG_DFL);
    }
    if (::chdir("/") != 0) std::perror("sensorsys-plugin-host: chdir /");
    ::umask(022);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
#if defined(__SANITIZE_ADDRESS__)
    // ASan's shadow memory alone is larger than any sensible limit.
    (void)memory_max;
#else
    if (memory_max > 0) {
        const rlimit limit{memory_max, memory_max};
        if (::setrlimit(RLIMIT_AS, &limit) != 0) std::perror("sensorsys-plugin-host: RLIMIT_AS");
    }
#endif
}

bool writeAll(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(kChannel, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<Frame> readFrame(FrameDecoder& decoder) {
    for (;;) {
        if (auto frame = decoder.next()) return frame;
        char chunk[4096];
        const ssize_t n = ::read(kChannel, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        decoder.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    }
}

// The answer to one request from the agent.
Frame answer(const Frame& request, const PluginScan& scan, const std::string& name,
             std::unique_ptr<SensorInstance>& me) {
    if (request.kind == FrameKind::Create) {
        if (scan.loaded.empty()) return {FrameKind::Error, scan.refused.front().message()};
        me = std::make_unique<SensorInstance>(name, scan.loaded.front(), request.text);
        try {
            const std::string why = me->create();
            return why.empty() ? Frame{FrameKind::Ok, {}} : Frame{FrameKind::Error, why};
        } catch (const SensorConfigError& e) {
            me.reset();
            return {FrameKind::Refused, e.what()};
        }
    }
    if (request.kind == FrameKind::Read) {
        if (!me) return {FrameKind::Ok, errorObject("read before create")};
        return {FrameKind::Ok, me->read()};
    }
    me.reset();
    return {FrameKind::Ok, {}};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr,
                     "usage: sensorsys-plugin-host PLUGIN_FILE SENSOR_NAME MEMORY_MAX_BYTES\n"
                     "(started by sensorsys-agent, protocol channel on fd 3)\n");
        return 2;
    }
    if (!startWatchdog()) leave(3);
    settle(static_cast<rlim_t>(std::strtoull(argv[3], nullptr, 10)));
    const std::string name = argv[2];
    const PluginScan scan = PluginLoader::loadOne(argv[1]);
    std::unique_ptr<SensorInstance> instance;
    FrameDecoder decoder;
    try {
        while (auto request = readFrame(decoder)) {
            const Frame reply = answer(*request, scan, name, instance);
            if (!writeAll(encodeFrame(reply.kind, reply.text))) leave(1);
            if (request->kind == FrameKind::Destroy) leave(0);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sensorsys-plugin-host: %s\n", e.what());
        leave(1);
    }
    leave(0);
}
