#include "sampler.hpp"

#include <algorithm>

namespace sensorsys::agent {
namespace {

// In its own sensorsys-plugin-host process unless the sensor asks for thread isolation.
std::shared_ptr<SensorInstance> makeInstance(const AgentSettings& settings, const SensorSpec& spec,
                                             const std::shared_ptr<const LoadedPlugin>& plugin,
                                             Poco::Logger& logger) {
    if (spec.isolation == "thread") {
        return std::make_shared<SensorInstance>(spec.name, plugin, spec.configJson);
    }
    HostOptions host;
    host.hostBinary = HostedPlugin::defaultHostBinary();
    host.memoryMax = static_cast<std::uint64_t>(spec.memoryMaxMib) << 20;
    host.readTimeout = settings.readTimeout;
    host.createTimeout = settings.createTimeout;
    host.logger = &logger;
    return std::make_shared<SensorInstance>(spec.name, plugin, spec.configJson, std::move(host));
}

}  // namespace

Sampler::Sampler(const AgentSettings& settings, const std::vector<SensorSpec>& specs,
                 const PluginScan& plugins, Poco::ThreadPool& pool, Poco::Logger& logger,
                 std::shared_ptr<const CallNote> note)
    : _deviceId(settings.deviceId),
      _createTimeout(settings.createTimeout),
      _reader(pool, settings.readTimeout),
      _logger(logger) {
    std::vector<std::shared_ptr<SensorInstance>> instances;
    for (const auto& spec : specs) {
        if (!spec.enabled) {
            _logger.information("sensor '" + spec.name + "' is disabled (sensor." + spec.name +
                                ".enabled = false)");
            continue;
        }
        Slot slot{spec.name, spec.interval.value_or(settings.interval), nullptr, {}};
        slot.implicit = spec.implicit;
        const auto plugin = std::find_if(plugins.loaded.begin(), plugins.loaded.end(),
                                         [&](const auto& p) { return p->name() == spec.plugin; });
        if (plugin == plugins.loaded.end()) {
            slot.unavailable = errorObject("plugin '" + spec.plugin + "' for sensor '" + spec.name +
                                           "' is not loaded from " + settings.pluginsDir.string() +
                                           " (see --list-plugins)");
            _logger.warning(slot.unavailable);
        } else {
            slot.instance = makeInstance(settings, spec, *plugin, logger);
            slot.instance->recordCallsIn(note, instances.size());
            instances.push_back(slot.instance);
        }
        _slots.push_back(std::move(slot));
    }
    // Every instance holds at most one pool thread (its create or its read), so this many
    // threads keep a healthy sensor read however many others hang.
    ParallelReader::ensureCapacity(pool, instances.size());
    _createsStarted = std::chrono::steady_clock::now();
    _creates = _reader.startCreates(instances);
}

void Sampler::awaitCreates(const std::function<bool()>& give_up) {
    if (_creates.empty()) return;
    const auto results = _reader.finish(_creates, _createsStarted + _createTimeout, give_up);
    _creates = {};
    for (const auto& result : results) {
        const auto slot = std::find_if(_slots.begin(), _slots.end(),
                                       [&](const Slot& s) { return s.name == result.name; });
        if (result.ok) continue;
        if (result.json.find("timeout: create of") != std::string::npos) {
            _logger.warning("sensor '" + result.name +
                            "': create has not returned yet; its readings report a timeout "
                            "until it does");
        } else if (slot->instance->refusal() && slot->implicit) {
            slot->retired->store(true);
            _logger.warning("sensor '" + result.name + "' is not started: its plugin needs " +
                            "settings (" + *slot->instance->refusal() + "); list it in " +
                            "`sensors` with its sensor." + result.name +
                            ".* keys (see --list-plugins)");
        } else if (slot->instance->refusal()) {
            throw ConfigError(std::string("invalid configuration: sensor.") + result.name +
                              ".*: " + *slot->instance->refusal());
        } else {
            _logger.warning("sensor '" + result.name + "': " + result.json +
                            " (retried at each reading)");
        }
    }
}

Reading Sampler::sample(std::chrono::system_clock::time_point tick, bool all) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::milliseconds>(tick.time_since_epoch());
    std::vector<const Slot*> due;
    std::vector<std::shared_ptr<SensorInstance>> to_read;
    for (const auto& slot : _slots) {
        if (slot.retired->load()) continue;
        if (!all && since_epoch.count() % slot.interval.count() != 0) continue;
        due.push_back(&slot);
        if (slot.instance) to_read.push_back(slot.instance);
    }

    Reading reading;
    reading.deviceId = _deviceId;
    reading.readingId = _uuids.next(tick);
    reading.tsUtc = formatUtc(tick);
    reading.tsLocal = formatLocal(tick);

    std::vector<SensorResult> results = _reader.readAll(to_read);
    auto next = results.begin();
    for (const Slot* slot : due) {
        if (slot->instance) {
            reading.payload.push_back(std::move(*next++));
        } else {
            reading.payload.push_back({slot->name, slot->unavailable, false});
        }
    }
    {
        std::lock_guard lock(_lastMutex);
        for (const auto& result : reading.payload) {
            auto it = std::find_if(_last.begin(), _last.end(),
                                   [&](const auto& entry) { return entry.first == result.name; });
            const bool was_error = it != _last.end() && it->second.rfind("{\"error\"", 0) == 0;
            // Log changes of state, not every tick: at 10 Hz a missing sensor would flood
            // the journal with the same line.
            if (!result.ok && (it == _last.end() || it->second != result.json)) {
                _logger.warning("sensor '" + result.name + "': " + result.json);
            } else if (result.ok && was_error) {
                _logger.information("sensor '" + result.name + "' reads again");
            }
            if (it == _last.end()) {
                _last.emplace_back(result.name, result.json);
            } else {
                it->second = result.json;
            }
        }
    }
    return reading;
}

std::vector<std::chrono::milliseconds> Sampler::intervals() const {
    std::vector<std::chrono::milliseconds> result;
    for (const auto& slot : _slots) result.push_back(slot.interval);
    return result;
}

bool Sampler::readsInFlight() const {
    return std::any_of(_slots.begin(), _slots.end(), [](const Slot& slot) {
        return slot.instance && slot.instance->readInFlight();
    });
}

}  // namespace sensorsys::agent

namespace sensorsys::agent {

std::vector<std::pair<std::string, std::string>> Sampler::lastResults() const {
    std::lock_guard lock(_lastMutex);
    return _last;
}

std::vector<std::pair<std::string, int>> Sampler::hostRestarts() const {
    std::vector<std::pair<std::string, int>> restarts;
    for (const auto& slot : _slots) {
        if (slot.instance && slot.instance->isolated()) {
            restarts.emplace_back(slot.name, slot.instance->hostRestarts());
        }
    }
    return restarts;
}

}  // namespace sensorsys::agent
