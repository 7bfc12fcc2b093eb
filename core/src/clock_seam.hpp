// The agent's access to the machine's clocks (wall clock, CLOCK_BOOTTIME, the boot id and the
// kernel's NTP state) behind an interface, so the time logic can be tested with a fake.
// Thread-safety: SystemClockSeam may be used from any thread.
#pragma once

#include <chrono>
#include <string>

namespace sensorsys::agent {

// What adjtimex()/ntp_adjtime() say about the kernel's clock.
struct KernelClockState {
    bool synchronised = false;  // STA_UNSYNC clear
    std::chrono::microseconds maxError{0};
};

class ClockSeam {
  public:
    virtual ~ClockSeam() = default;
    virtual std::chrono::system_clock::time_point wallNow() = 0;
    // CLOCK_BOOTTIME: monotonic, counts suspend, starts at boot.
    virtual std::chrono::nanoseconds boottime() = 0;
    // /proc/sys/kernel/random/boot_id: tells a reading of this boot from one of an earlier boot.
    virtual std::string bootId() = 0;
    virtual KernelClockState kernelState() = 0;
};

class SystemClockSeam final : public ClockSeam {
  public:
    SystemClockSeam();  // reads the boot id once
    std::chrono::system_clock::time_point wallNow() override;
    std::chrono::nanoseconds boottime() override;
    std::string bootId() override;
    KernelClockState kernelState() override;

  private:
    std::string _bootId;
};

}  // namespace sensorsys::agent
