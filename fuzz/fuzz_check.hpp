// What a harness does when a property it checks does not hold: it says which and aborts, so
// libFuzzer (or the replay driver) reports the input as a crash and keeps it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sensorsys::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
    // Long details (a whole body) are cut: the crashing input is saved by libFuzzer anyway.
    const auto shown = detail.substr(0, 2000);
    std::fprintf(stderr, "fuzz check failed: %.*s\n  %.*s\n", static_cast<int>(what.size()),
                 what.data(), static_cast<int>(shown.size()), shown.data());
    std::abort();
}

inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
    if (!ok) fail(what, detail);
}

}  // namespace sensorsys::fuzz
