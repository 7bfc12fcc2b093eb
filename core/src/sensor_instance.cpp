#include "sensor_instance.hpp"

#include <algorithm>
#include <vector>

namespace sensorsys::agent {
namespace {

constexpr std::size_t kErrorCapacity = 512;
constexpr std::size_t kInitialBuffer = 4096;
// Bytes past the error buffer that must come back untouched: a plugin writing past its
// capacity spoils them, not the agent's memory, and is reported.
constexpr std::size_t kGuardSize = 1024;
constexpr char kGuardByte = '\xA5';

// The error buffer handed to the plugin: on the heap, followed by a guard region.
class ErrorBuffer {
  public:
    ErrorBuffer() : _bytes(kErrorCapacity + kGuardSize, kGuardByte) {
        std::fill_n(_bytes.begin(), kErrorCapacity, '\0');
    }

    char* data() { return _bytes.data(); }
    static std::size_t capacity() { return kErrorCapacity; }

    // Empty when the guard is intact, else why the plugin's call cannot be trusted.
    std::string overrun(const LoadedPlugin& plugin) const {
        const bool intact = std::all_of(_bytes.begin() + kErrorCapacity, _bytes.end(),
                                        [](char c) { return c == kGuardByte; });
        if (intact) return {};
        return "plugin " + plugin.name() + " (" + plugin.path().string() +
               ") wrote past the end of its " + std::to_string(kErrorCapacity) +
               "-byte error buffer";
    }

    // The plugin's message, cut at the capacity whatever the plugin left there.
    std::string text(sensorsys_status status) {
        _bytes[kErrorCapacity - 1] = '\0';
        if (_bytes[0] != '\0') return _bytes.data();
        return "plugin returned status " + std::to_string(static_cast<int>(status)) +
               " without a message";
    }

  private:
    std::vector<char> _bytes;
};

// Clears a flag when the scope ends, however it ends.
class FlagScope {
  public:
    explicit FlagScope(std::atomic<bool>& flag) : _flag(flag) { _flag.store(true); }
    ~FlagScope() { _flag.store(false); }
    FlagScope(const FlagScope&) = delete;
    FlagScope& operator=(const FlagScope&) = delete;

  private:
    std::atomic<bool>& _flag;
};

}  // namespace

SensorInstance::SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                               std::string config_json, std::size_t output_cap)
    : _name(std::move(name)),
      _plugin(std::move(plugin)),
      _config(std::move(config_json)),
      _outputCap(output_cap),
      _handle(nullptr, _plugin->descriptor().destroy) {}

SensorInstance::SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                               std::string config_json, HostOptions host)
    : SensorInstance(std::move(name), std::move(plugin), std::move(config_json)) {
    _hosted = std::make_unique<HostedPlugin>(_name, _plugin->path(), _config, std::move(host));
}

void SensorInstance::recordCallsIn(std::shared_ptr<const CallNote> note, std::size_t slot) {
    _note = std::move(note);
    _noteSlot = slot;
    const std::string who = "sensor '" + _name + "' (plugin file " + _plugin->path().string() + ")";
    _creatingText = who + " was being created";
    _readingText = who + " was being read";
}

std::string SensorInstance::create() {
    if (_hosted) {
        FlagScope creating(_creating);
        return _hosted->create();
    }
    if (_handle) return {};
    FlagScope creating(_creating);
    ErrorBuffer error;
    sensorsys_instance* raw = nullptr;
    sensorsys_status status;
    {
        CallNote::Call call(_note.get(), _noteSlot, _creatingText);
        status = _plugin->descriptor().create(_config.c_str(), &raw, error.data(),
                                              ErrorBuffer::capacity());
    }
    if (std::string overrun = error.overrun(*_plugin); !overrun.empty()) {
        // Whatever it returned, the instance came from a call that broke its contract.
        if (status == SENSORSYS_OK && raw != nullptr) _plugin->descriptor().destroy(raw);
        return "create failed: " + overrun;
    }
    if (status == SENSORSYS_OK && raw != nullptr) {
        _handle.reset(raw);
        return {};
    }
    if (status == SENSORSYS_INVALID_CONFIG) {
        throw SensorConfigError("sensor '" + _name + "' (plugin " + _plugin->name() +
                                "): " + error.text(status));
    }
    return "create failed: " +
           (status == SENSORSYS_OK ? std::string("no instance returned") : error.text(status));
}

std::string SensorInstance::createKeepingRefusal() {
    try {
        const std::string why = create();
        return why.empty() ? why : errorObject(why);
    } catch (const SensorConfigError& e) {
        _refusal = e.what();
        return errorObject(e.what());
    } catch (const std::exception& e) {
        return errorObject(_plugin->name() + ": " + e.what());
    }
}

std::string SensorInstance::read() {
    try {
        if (_hosted) return _hosted->read();
        if (std::string why = create(); !why.empty()) return errorObject(why);
        return readCreated();
    } catch (const SensorConfigError& e) {
        return errorObject(e.what());
    } catch (const PluginOutputError& e) {
        return errorObject(_plugin->name() + ": " + e.what());
    } catch (const std::exception& e) {
        return errorObject(_plugin->name() + ": " + e.what());
    }
}

std::string SensorInstance::readCreated() {
    std::string buffer(kInitialBuffer, '\0');
    ErrorBuffer error;
    std::size_t length = 0;
    const auto& descriptor = _plugin->descriptor();
    const CallNote::Call call(_note.get(), _noteSlot, _readingText);
    sensorsys_status status = descriptor.read(_handle.get(), buffer.data(), buffer.size(), &length,
                                              error.data(), ErrorBuffer::capacity());
    if (std::string overrun = error.overrun(*_plugin); !overrun.empty()) {
        return errorObject(overrun);
    }
    if (status == SENSORSYS_BUFFER_TOO_SMALL) {
        if (length > _outputCap) {
            return errorObject("output of " + std::to_string(length) +
                               " bytes exceeds the cap of " + std::to_string(_outputCap) +
                               " bytes");
        }
        buffer.assign(length, '\0');
        status = descriptor.read(_handle.get(), buffer.data(), buffer.size(), &length, error.data(),
                                 ErrorBuffer::capacity());
        if (std::string overrun = error.overrun(*_plugin); !overrun.empty()) {
            return errorObject(overrun);
        }
        if (status == SENSORSYS_BUFFER_TOO_SMALL) {
            return errorObject("plugin asked for a larger buffer twice (" + std::to_string(length) +
                               " bytes after " + std::to_string(buffer.size()) + ")");
        }
    }
    if (status != SENSORSYS_OK) return errorObject(error.text(status));
    if (length > buffer.size()) {
        return errorObject("plugin reported " + std::to_string(length) +
                           " bytes written into a buffer of " + std::to_string(buffer.size()));
    }
    return validatePluginOutput(std::string_view(buffer.data(), length), _outputCap);
}

}  // namespace sensorsys::agent
