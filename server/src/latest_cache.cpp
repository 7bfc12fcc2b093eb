#include "latest_cache.hpp"

#include <algorithm>

namespace sensorsys::server {

bool LatestCache::Entry::newerThan(const Entry& other) const {
    if (!other.json) return true;
    if (tsLocalMicros != other.tsLocalMicros) return tsLocalMicros > other.tsLocalMicros;
    return id > other.id;
}

bool LatestCache::on() const {
    std::shared_lock lock(_mutex);
    return _on;
}

bool LatestCache::lookup(const std::optional<std::string>& deviceId, Answer& answer) const {
    std::shared_lock lock(_mutex);
    if (!_on) return false;
    if (!deviceId) {
        answer = _newest.json;
        return true;
    }
    const auto it = _byDevice.find(*deviceId);
    answer = it == _byDevice.end() ? nullptr : it->second.json;
    return true;
}

std::optional<std::vector<LatestCache::Newest>> LatestCache::snapshot() const {
    std::vector<Newest> rows;
    {
        std::shared_lock lock(_mutex);
        if (!_on) return std::nullopt;
        rows.reserve(_byDevice.size());
        for (const auto& [device, entry] : _byDevice) {
            if (entry.json) rows.push_back({device, entry.id, entry.json});
        }
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return rows;
}

void LatestCache::merge(const StoredReading& reading) {
    Entry candidate{reading.tsLocalMicros, reading.id, nullptr};
    auto& current = _byDevice[reading.deviceId];
    const bool deviceNewer = candidate.newerThan(current);
    const bool allNewer = candidate.newerThan(_newest);
    if (!deviceNewer && !allNewer) return;
    candidate.json = std::make_shared<const std::string>(reading.json());
    if (deviceNewer) current = candidate;
    if (allNewer) _newest = candidate;
}

void LatestCache::offer(const StoredReading& reading) {
    std::unique_lock lock(_mutex);
    merge(reading);
}

void LatestCache::load(const std::vector<StoredReading>& newestPerDevice) {
    std::unique_lock lock(_mutex);
    for (const auto& reading : newestPerDevice) merge(reading);
    _on = true;
}

void LatestCache::turnOff() {
    std::unique_lock lock(_mutex);
    _on = false;
    _byDevice.clear();
    _newest = Entry{};
}

}  // namespace sensorsys::server
