// Reading small text files such as sysfs attributes.
#pragma once

#include <string>

namespace sensorsys::cputemp {

// The seam between the sensor and the file system, so tests can provoke errors (EIO from a
// failing sensor) that fixture files cannot.
// Thread-safety: read() is const and may be called from several threads at once.
class FileReader {
  public:
    virtual ~FileReader() = default;

    // The file's whole content (sysfs attributes are a few bytes; anything past a small cap is
    // cut off). Throws plugin::ReadError "cannot read <path>: <errno name>: <text>".
    virtual std::string read(const std::string& path) const = 0;
};

// Reads with open/read, so the error names the errno the kernel gave (streams lose it).
// Thread-safety: stateless; concurrent read() calls are independent.
class SystemFileReader final : public FileReader {
  public:
    std::string read(const std::string& path) const override;
};

}  // namespace sensorsys::cputemp
