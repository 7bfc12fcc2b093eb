#include "sgp30_monitor.hpp"

#include "baseline_file.hpp"

#include <utility>

namespace sensorsys::sgp30 {

Sgp30Monitor::Sgp30Monitor(std::unique_ptr<i2c::I2cBus> bus, std::shared_ptr<Clock> clock,
                           std::string baselineFile)
    : _bus(std::move(bus)),
      _clock(std::move(clock)),
      _driver(*_bus, *_clock),
      _baselineFile(std::move(baselineFile)) {
    if (!_baselineFile.empty()) _baseline = loadBaseline(_baselineFile, _clock->wallNow());
    _thread = std::jthread([this](std::stop_token stop) { run(stop); });
}

Sgp30Monitor::~Sgp30Monitor() {
    _thread.request_stop();
    _thread.join();
    saveFinalBaseline();
}

std::string Sgp30Monitor::read() const {
    std::lock_guard lock(_mutex);
    if (!_error.empty()) throw plugin::ReadError(_error);
    if (!_saveError.empty()) throw plugin::ReadError(_saveError);
    return _payload;
}

void Sgp30Monitor::run(std::stop_token stop) {
    auto next = _clock->now();
    do {
        if (!_initialised) initialise();
        if (_initialised) measure();
        // After a stall (a suspended machine) the cadence resumes from now instead of bursting.
        next = std::max(next + kCadence, _clock->now());
    } while (_clock->sleepUntil(next, stop));
}

void Sgp30Monitor::initialise() {
    try {
        _driver.iaqInit();
        if (_baseline) _driver.setBaseline(*_baseline);
    } catch (const plugin::ReadError& e) {
        fail(e.what());
        return;
    }
    const auto now = _clock->now();
    _initialised = true;
    _warmUpEnd = now + kWarmUp;
    // A restored baseline is trusted at once; a fresh one only after the chip learnt it.
    _trustedFrom = _baseline ? now : now + kTrustAfter;
    _nextSave = _baseline ? now + kSaveEvery : _trustedFrom;
    publish("{\"warming_up\": true}");
}

void Sgp30Monitor::measure() {
    AirQuality quality;
    try {
        quality = _driver.measureIaq();
    } catch (const plugin::ReadError& e) {
        fail(e.what());
        return;
    }
    const auto now = _clock->now();
    if (now < _warmUpEnd) {
        publish("{\"warming_up\": true}");
    } else {
        publish("{\"eco2_ppm\": " + std::to_string(quality.eco2Ppm) +
                ", \"tvoc_ppb\": " + std::to_string(quality.tvocPpb) + "}");
    }
    if (now >= _nextSave) refreshBaseline(now);
}

void Sgp30Monitor::refreshBaseline(Clock::Steady::time_point now) {
    try {
        _baseline = _driver.getBaseline();
    } catch (const plugin::ReadError& e) {
        fail(e.what());
        return;
    }
    _nextSave = now + kSaveEvery;
    if (_baselineFile.empty()) return;
    std::string problem;
    try {
        saveBaseline(_baselineFile, *_baseline, _clock->wallNow());
    } catch (const plugin::ReadError& e) {
        problem = e.what();
        _nextSave = now + kSaveRetry;
    }
    std::lock_guard lock(_mutex);
    _saveError = std::move(problem);
}

void Sgp30Monitor::publish(std::string payload) {
    std::lock_guard lock(_mutex);
    _payload = std::move(payload);
    _error.clear();
}

void Sgp30Monitor::fail(const std::string& message) {
    // The chip may have lost power: start over with iaq_init (and the last baseline) next time.
    _initialised = false;
    _driver.reset();
    std::lock_guard lock(_mutex);
    _error = message;
}

void Sgp30Monitor::saveFinalBaseline() {
    if (_baselineFile.empty() || !_initialised || _clock->now() < _trustedFrom) return;
    try {
        saveBaseline(_baselineFile, _driver.getBaseline(), _clock->wallNow());
    } catch (const plugin::ReadError&) {
        // Nobody is left to tell; the hourly save before this one stays on disk.
    }
}

}  // namespace sensorsys::sgp30
