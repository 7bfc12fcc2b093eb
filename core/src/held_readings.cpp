#include "held_readings.hpp"

#include <string>

#include "reading.hpp"

namespace sensorsys::agent {

namespace {
constexpr std::size_t kPage = 1000;
}  // namespace

HeldReadings::HeldReadings(ReadingStore& store, TimeSource& time, Poco::Logger& logger)
    : _store(store), _time(time), _logger(logger) {}

std::optional<Release> HeldReadings::releaseOf(const HeldReading& row, const std::string& boot_id) {
    Release release;
    release.id = row.id;
    if (row.bootId != boot_id || row.boottimeNs < 0) {
        // Its CLOCK_BOOTTIME belongs to another boot: nothing can date it any more.
        release.tsQuality = "unsynced";
        return release;
    }
    const auto time = _time.timeAt(std::chrono::nanoseconds(row.boottimeNs));
    if (!time) return std::nullopt;
    release.readingId = _uuids.next(*time);
    release.tsUtc = formatUtc(*time);
    release.tsLocal = formatLocal(*time);
    const auto wall = parseUtc(row.tsUtc);
    const auto error = !wall           ? std::chrono::system_clock::duration::max()
                       : *wall > *time ? *wall - *time
                                       : *time - *wall;
    if (error > _time.maxError()) release.tsQuality = "corrected";
    return release;
}

std::size_t HeldReadings::release() {
    const std::string boot_id = _time.seam().bootId();
    std::size_t released = 0;
    std::int64_t after = 0;
    for (;;) {
        const auto rows = _store.held(kPage, after);
        if (rows.empty()) break;
        std::vector<Release> page;
        for (const auto& row : rows) {
            if (auto release = releaseOf(row, boot_id)) page.push_back(std::move(*release));
        }
        _store.release(page);
        released += page.size();
        after = rows.back().id;
        if (rows.size() < kPage) break;
    }
    if (released > 0) {
        _logger.information("dated and released " + std::to_string(released) +
                            " reading(s) held until the time was known");
    }
    return released;
}

}  // namespace sensorsys::agent
