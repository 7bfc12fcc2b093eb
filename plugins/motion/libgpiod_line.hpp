// The production GpioLine: libgpiod 1.6 (the GPIO character device, /dev/gpiochipN).
// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
#pragma once

#include "gpio_line.hpp"

#include <memory>
#include <string>

struct gpiod_chip;
struct gpiod_line;

namespace sensorsys::motion {

// Thread-safety: not thread-safe; one owner uses it from one thread at a time.
class LibgpiodLine final : public GpioLine {
  public:
    // `chip` is a name ("gpiochip0"), a number, a label or a /dev path, as gpiod_chip_open_lookup
    // takes it. Nothing is opened before requestEvents.
    LibgpiodLine(std::string chip, unsigned offset);
    ~LibgpiodLine() override;

    void requestEvents() override;
    bool waitEvent(std::chrono::milliseconds timeout) override;
    GpioEdge readEvent() override;
    bool getValue() override;
    void release() override;

  private:
    struct ChipCloser {
        void operator()(gpiod_chip* chip) const;
    };
    struct LineReleaser {
        void operator()(gpiod_line* line) const;
    };

    GpioError error(const std::string& what, int code) const;

    std::string _chipName;
    unsigned _offset;
    std::unique_ptr<gpiod_chip, ChipCloser> _chip;
    std::unique_ptr<gpiod_line, LineReleaser> _line;  // after _chip: released before it closes
};

}  // namespace sensorsys::motion
