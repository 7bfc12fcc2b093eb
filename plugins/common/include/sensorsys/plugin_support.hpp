// C++ side of our own plugins: turns a small C++ sensor class into the C ABI of plugin.h.
// Not part of the SDK; third-party plugins only need plugin.h.
//
// A sensor class provides
//     explicit Sensor(const sensorsys::plugin::Config& config);  // throws ConfigError
//     std::string read();                                         // throws ReadError
// and the plugin declares the keys it accepts (ABI 1.1) and defines its entry:
//     constexpr sensorsys_config_key kKeys[] = {
//         {"path", "string", "/", "any path on the file system to measure"}, {}};
//     SENSORSYS_DEFINE_PLUGIN(Sensor, "name", version, "one line", kKeys)
// The declared table is the one place a key's default lives: Config refuses undeclared keys
// and its getters without a fallback return the declared default.
// Thread-safety: one Sensor object is used by one thread at a time (plugin.h guarantees it).
#pragma once

#include <sensorsys/plugin.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

namespace sensorsys::plugin {

// The configuration could not be accepted; the message names the key and what is allowed.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A reading failed; the message says what failed and where (device, path, errno name).
class ReadError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A plugin instance's configuration: the flat JSON object the host passes to create().
class Config {
  public:
    // Throws ConfigError when the text is not a JSON object.
    explicit Config(const char* json);
    // As above, and refuses every key not in `keys` (ended by an entry with a NULL name),
    // naming it and the declared ones. `keys` must outlive the Config (a static table).
    Config(const char* json, const sensorsys_config_key* keys);

    // Refuses keys outside `known`, naming the first unknown one and listing the known ones.
    void allowOnly(std::initializer_list<std::string_view> known) const;

    std::string getString(const std::string& key, const std::string& fallback) const;
    std::int64_t getInt(const std::string& key, std::int64_t fallback) const;
    bool getBool(const std::string& key, bool fallback) const;
    bool has(const std::string& key) const;

    // The value, or the declared default when the key is absent. A key that was not declared
    // is a programming error (std::logic_error).
    std::string getString(const std::string& key) const;
    std::int64_t getInt(const std::string& key) const;
    double getNumber(const std::string& key) const;
    bool getBool(const std::string& key) const;

  private:
    const sensorsys_config_key& declared(const std::string& key) const;

    Poco::JSON::Object::Ptr _object;
    const sensorsys_config_key* _keys = nullptr;
};

// errno as its symbolic name ("ENXIO") followed by strerror text: "ENXIO: No such device".
std::string errnoText(int error);

// Rounds to `decimals` places, for output that keeps the sensor's resolution without noise.
double round(double value, int decimals);

// A finite value as a JSON number that keeps a decimal point on whole numbers (50.0, not 50):
// Python's repr of a float does, and the seed's consumers saw floats.
std::string jsonNumber(double value);

// Copies NUL-terminated text into a host error buffer, truncating to its capacity.
void writeError(std::string_view text, char* error, std::size_t capacity);

// Writes `json` into the caller's buffer or reports the size it needs (plugin.h "Output").
sensorsys_status deliver(const std::string& json, char* buffer, std::size_t capacity,
                         std::size_t* length);

namespace detail {

// Holds a sensor and the reading a too-small buffer could not take, so the retry returns the
// same reading instead of reading the hardware again.
template <class Sensor>
struct Instance {
    explicit Instance(const Config& config) : sensor(config) {}
    Sensor sensor;
    std::optional<std::string> pending;
};

template <class Sensor, const sensorsys_config_key* Keys>
sensorsys_status create(const char* config_json, sensorsys_instance** out, char* error,
                        std::size_t capacity) noexcept {
    try {
        auto instance =
            std::make_unique<Instance<Sensor>>(Config(config_json ? config_json : "{}", Keys));
        *out = reinterpret_cast<sensorsys_instance*>(instance.release());
        return SENSORSYS_OK;
    } catch (const ConfigError& e) {
        writeError(e.what(), error, capacity);
        return SENSORSYS_INVALID_CONFIG;
    } catch (const std::exception& e) {
        writeError(e.what(), error, capacity);
        return SENSORSYS_INTERNAL_ERROR;
    } catch (...) {
        writeError("unknown error in create", error, capacity);
        return SENSORSYS_INTERNAL_ERROR;
    }
}

template <class Sensor>
sensorsys_status read(sensorsys_instance* handle, char* buffer, std::size_t capacity,
                      std::size_t* length, char* error, std::size_t error_capacity) noexcept {
    auto* instance = reinterpret_cast<Instance<Sensor>*>(handle);
    try {
        if (!instance->pending) instance->pending = instance->sensor.read();
        const sensorsys_status status = deliver(*instance->pending, buffer, capacity, length);
        if (status == SENSORSYS_OK) instance->pending.reset();
        return status;
    } catch (const ReadError& e) {
        writeError(e.what(), error, error_capacity);
        return SENSORSYS_READ_FAILED;
    } catch (const std::exception& e) {
        writeError(e.what(), error, error_capacity);
        return SENSORSYS_INTERNAL_ERROR;
    } catch (...) {
        writeError("unknown error in read", error, error_capacity);
        return SENSORSYS_INTERNAL_ERROR;
    }
}

template <class Sensor>
void destroy(sensorsys_instance* handle) noexcept {
    std::unique_ptr<Instance<Sensor>> owned(reinterpret_cast<Instance<Sensor>*>(handle));
}

}  // namespace detail
}  // namespace sensorsys::plugin

// Defines the plugin's descriptor and its one exported entry function.
// `keys` is the plugin's static sensorsys_config_key table (see the top of this file).
#define SENSORSYS_DEFINE_PLUGIN(Sensor, plugin_name, plugin_version, plugin_description, keys) \
    namespace {                                                                                \
    const sensorsys_plugin_descriptor kSensorsysDescriptor = {                                 \
        SENSORSYS_DESCRIPTOR_HEADER,                                                           \
        plugin_name,                                                                           \
        plugin_version,                                                                        \
        plugin_description,                                                                    \
        &sensorsys::plugin::detail::create<Sensor, keys>,                                      \
        &sensorsys::plugin::detail::read<Sensor>,                                              \
        &sensorsys::plugin::detail::destroy<Sensor>,                                           \
        keys};                                                                                 \
    }                                                                                          \
    SENSORSYS_PLUGIN_ENTRY(host_major, host_minor) {                                           \
        (void)host_minor;                                                                      \
        return host_major == SENSORSYS_ABI_MAJOR ? &kSensorsysDescriptor : nullptr;            \
    }
