#include "sensor_instance.hpp"

#include <array>

namespace sensorsys::agent {
namespace {

constexpr std::size_t kErrorCapacity = 512;
constexpr std::size_t kInitialBuffer = 4096;

std::string statusText(sensorsys_status status, const std::array<char, kErrorCapacity>& error) {
    if (error[0] != '\0') return error.data();
    return "plugin returned status " + std::to_string(static_cast<int>(status)) +
           " without a message";
}

}  // namespace

SensorInstance::SensorInstance(std::string name, std::shared_ptr<const LoadedPlugin> plugin,
                               std::string config_json, std::size_t output_cap)
    : _name(std::move(name)),
      _plugin(std::move(plugin)),
      _config(std::move(config_json)),
      _outputCap(output_cap),
      _handle(nullptr, _plugin->descriptor().destroy) {
    create();
}

std::string SensorInstance::create() {
    std::array<char, kErrorCapacity> error{};
    sensorsys_instance* raw = nullptr;
    const sensorsys_status status =
        _plugin->descriptor().create(_config.c_str(), &raw, error.data(), error.size());
    error.back() = '\0';
    if (status == SENSORSYS_OK && raw != nullptr) {
        _handle.reset(raw);
        return {};
    }
    if (status == SENSORSYS_INVALID_CONFIG) {
        throw SensorConfigError("sensor '" + _name + "' (plugin " + _plugin->name() +
                                "): " + statusText(status, error));
    }
    return "create failed: " + (status == SENSORSYS_OK ? std::string("no instance returned")
                                                       : statusText(status, error));
}

std::string SensorInstance::read() {
    try {
        if (!_handle) {
            if (std::string why = create(); !why.empty()) return errorObject(why);
        }
        std::string buffer(kInitialBuffer, '\0');
        std::array<char, kErrorCapacity> error{};
        std::size_t length = 0;
        const auto& descriptor = _plugin->descriptor();
        sensorsys_status status = descriptor.read(_handle.get(), buffer.data(), buffer.size(),
                                                  &length, error.data(), error.size());
        if (status == SENSORSYS_BUFFER_TOO_SMALL) {
            if (length > _outputCap) {
                return errorObject("output of " + std::to_string(length) +
                                   " bytes exceeds the cap of " + std::to_string(_outputCap) +
                                   " bytes");
            }
            buffer.assign(length, '\0');
            status = descriptor.read(_handle.get(), buffer.data(), buffer.size(), &length,
                                     error.data(), error.size());
            if (status == SENSORSYS_BUFFER_TOO_SMALL) {
                return errorObject("plugin asked for a larger buffer twice (" +
                                   std::to_string(length) + " bytes after " +
                                   std::to_string(buffer.size()) + ")");
            }
        }
        error.back() = '\0';
        if (status != SENSORSYS_OK) return errorObject(statusText(status, error));
        if (length > buffer.size()) {
            return errorObject("plugin reported " + std::to_string(length) +
                               " bytes written into a buffer of " + std::to_string(buffer.size()));
        }
        return validatePluginOutput(std::string_view(buffer.data(), length), _outputCap);
    } catch (const SensorConfigError& e) {
        return errorObject(e.what());
    } catch (const PluginOutputError& e) {
        return errorObject(_plugin->name() + ": " + e.what());
    } catch (const std::exception& e) {
        return errorObject(_plugin->name() + ": " + e.what());
    }
}

}  // namespace sensorsys::agent
