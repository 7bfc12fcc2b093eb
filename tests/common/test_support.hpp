// Small helpers the C++ tests share: a temporary folder that cleans up after itself and a
// way to run one of the real binaries and capture what it printed.
// Thread-safety: each object is used by one test at a time.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sensorsys::test {

// A fresh folder (mode 0755) under $TMPDIR, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return _path; }
    std::filesystem::path operator/(const std::string& name) const { return _path / name; }

  private:
    std::filesystem::path _path;
};

struct ProcessResult {
    int exit_code = -1;  // the exit status, or 128 + signal number
    std::string out;
    std::string err;
    std::chrono::milliseconds elapsed{0};
};

// Runs `argv` (no shell) with `extra_env` ("KEY=VALUE") added to the environment, waits for
// it, and returns its exit code and output. Kills it after `limit`.
ProcessResult run(const std::vector<std::string>& argv,
                  const std::vector<std::string>& extra_env = {},
                  std::chrono::seconds limit = std::chrono::seconds(60));

// A program running in the background, its stdout and stderr going to files. Killed (SIGKILL)
// on destruction if still running.
class Background {
  public:
    Background(const std::vector<std::string>& argv, const std::filesystem::path& log_prefix,
               const std::vector<std::string>& extra_env = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    int pid() const { return _pid; }
    bool running();
    // Sends `signal`, waits up to `limit`; returns the exit code (128 + signal when killed by
    // one), or -1 if it did not exit in time. `elapsed` gets how long the exit took.
    int stop(int signal, std::chrono::milliseconds limit,
             std::chrono::milliseconds* elapsed = nullptr);
    std::string out() const;
    std::string err() const;

  private:
    int _pid = -1;
    int _status = -1;
    std::filesystem::path _out;
    std::filesystem::path _err;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
int freePort();

// Polls `condition` every 50 ms until it holds or `limit` passes; returns its last value.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit);

// GET http://127.0.0.1:`port``target` (with a Bearer `token` unless empty): status and body.
// Throws Poco::Exception when no answer arrives within `timeout`.
std::pair<int, std::string> httpGet(int port, const std::string& target,
                                    const std::string& token = "",
                                    std::chrono::seconds timeout = std::chrono::seconds(5));

// Whether a server on 127.0.0.1:`port` answers GET /health with 200 (false on no answer).
bool healthy(int port);

// Starts a server (`argv`, logs to `log_prefix`.out/.err) and waits up to 20 s for it to be
// healthy on `port`; a test failure (with its stderr) when it is not.
std::unique_ptr<Background> startHealthyServer(const std::vector<std::string>& argv,
                                               const std::filesystem::path& log_prefix, int port);

// Copies every regular file of `from` into `to` keeping modes (0755 for plugins).
void copyFiles(const std::filesystem::path& from, const std::filesystem::path& to);

std::string readFile(const std::filesystem::path& path);

// True once process `pid` no longer runs: gone, or a zombie waiting for whoever inherited it.
bool processEnded(const std::string& pid);
void writeFile(const std::filesystem::path& path, const std::string& text);

}  // namespace sensorsys::test
