#include "backoff.hpp"

#include <algorithm>

namespace sensorsys::agent {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
    : _base(base), _cap(std::max(cap, base)), _random(seed) {}

std::chrono::milliseconds Backoff::next() {
    // 2^attempt overflows nothing: the window stops growing once it reaches the cap.
    std::int64_t window = _base.count();
    for (unsigned i = 0; i < _attempt && window < _cap.count(); ++i) window *= 2;
    window = std::min<std::int64_t>(window, _cap.count());
    if (window < _cap.count()) ++_attempt;
    std::uniform_int_distribution<std::int64_t> pick(0, window);
    return std::chrono::milliseconds(pick(_random));
}

}  // namespace sensorsys::agent
