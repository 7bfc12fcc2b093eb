#include "clock_seam.hpp"

#include <sys/timex.h>
#include <time.h>

#include <fstream>

namespace sensorsys::agent {

SystemClockSeam::SystemClockSeam() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::getline(in, _bootId);
    if (_bootId.empty()) _bootId = "unknown";
}

std::chrono::system_clock::time_point SystemClockSeam::wallNow() {
    return std::chrono::system_clock::now();
}

std::chrono::nanoseconds SystemClockSeam::boottime() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::string SystemClockSeam::bootId() {
    return _bootId;
}

KernelClockState SystemClockSeam::kernelState() {
    timex tx{};
    tx.modes = 0;  // read only
    const int state = ::ntp_adjtime(&tx);
    KernelClockState result;
    result.synchronised = state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
    result.maxError = std::chrono::microseconds(tx.maxerror);
    return result;
}

}  // namespace sensorsys::agent
