// An owned file descriptor for our plugins' C++ code (plugins/common, header only).
// Thread-safety: see the class.
#pragma once

#include <unistd.h>

#include <utility>

namespace sensorsys::plugin {

// Owns one file descriptor so every path out of a function, exceptions included, closes it.
// Thread-safety: a plain value with one owner, like the int it wraps.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : _fd(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other._fd, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return _fd; }
    bool valid() const noexcept { return _fd >= 0; }

    void reset(int fd = -1) noexcept {
        // close() is not retried on EINTR: on Linux the descriptor is gone either way.
        if (_fd >= 0) ::close(_fd);
        _fd = fd;
    }

  private:
    int _fd = -1;
};

}  // namespace sensorsys::plugin
