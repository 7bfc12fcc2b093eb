#include "file_reader.hpp"

#include <sensorsys/unique_fd.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <sensorsys/plugin_support.hpp>

namespace sensorsys::cputemp {

namespace {
// sysfs attributes are at most a page; a cap keeps a wrong path (a log file) from costing much.
constexpr std::size_t kMaxFileSize = 4096;
}  // namespace

std::string SystemFileReader::read(const std::string& path) const {
    const auto fail = [&path](int error) {
        return plugin::ReadError("cannot read " + path + ": " + plugin::errnoText(error));
    };
    const plugin::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw fail(errno);

    std::string content(kMaxFileSize, '\0');
    std::size_t used = 0;
    while (used < content.size()) {
        const ssize_t n = ::read(fd.get(), content.data() + used, content.size() - used);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw fail(errno);  // e.g. EIO or ENODATA from a thermal driver that lost its sensor
        }
        used += static_cast<std::size_t>(n);
    }
    content.resize(used);
    return content;
}

}  // namespace sensorsys::cputemp
