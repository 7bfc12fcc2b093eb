// Finds and loads sensor plugins (.so files) from one directory, checking each against the ABI
// of plugin.h and refusing, with one precise reason, anything it cannot trust.
// Thread-safety: a PluginLoader is immutable; a LoadedPlugin may be shared by any threads.
#pragma once

#include <sensorsys/plugin.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

namespace sensorsys::agent {

// One configuration key a plugin declares (ABI 1.1), copied out of the plugin's table.
struct PluginConfigKey {
    std::string name;
    std::string type;  // "string", "integer", "number" or "boolean"
    std::string defaultValue;
    std::string description;
};

// A plugin that passed every check. Owns the shared object: holders of a shared_ptr to it keep
// the code mapped, which is how "never unloaded while a read may run" is kept.
class LoadedPlugin {
  public:
    LoadedPlugin(std::filesystem::path path, boost::dll::shared_library library,
                 const sensorsys_plugin_descriptor& descriptor,
                 std::optional<std::vector<PluginConfigKey>> config_keys);

    const std::filesystem::path& path() const { return _path; }
    std::string name() const { return _descriptor.name; }
    std::string version() const;
    std::string description() const;
    // The plugin's descriptor as this host knows it: fields it did not provide are zero.
    const sensorsys_plugin_descriptor& descriptor() const { return _descriptor; }
    // The keys the plugin declares; nothing for a 1.0 plugin or a NULL table, whose keys the
    // host passes through unchecked (an empty table declares that no key is accepted).
    const std::optional<std::vector<PluginConfigKey>>& configKeys() const { return _configKeys; }

  private:
    std::filesystem::path _path;
    boost::dll::shared_library _library;
    sensorsys_plugin_descriptor _descriptor;
    std::optional<std::vector<PluginConfigKey>> _configKeys;
};

// Why one file was not loaded. `pluginAbi` is known once the descriptor could be read.
struct PluginRefusal {
    std::filesystem::path file;
    std::string reason;
    std::optional<std::string> pluginAbi;
    // "<file>: <reason> (plugin ABI x.y|unknown, agent ABI 1.0)"
    std::string message() const;
};

struct PluginScan {
    std::vector<std::shared_ptr<const LoadedPlugin>> loaded;
    std::vector<PluginRefusal> refused;
};

class PluginLoader {
  public:
    explicit PluginLoader(std::filesystem::path directory);

    // Loads every "*.so" directly in the directory, in file-name order; the first file to claim
    // a plugin name wins. A refused file never stops the others from loading.
    PluginScan loadAll() const;

    // Loads one file with the same checks (sensorsys-plugin-host loads one plugin this way):
    // a scan with either that plugin loaded or the reason it was refused.
    static PluginScan loadOne(const std::filesystem::path& file);

    const std::filesystem::path& directory() const { return _directory; }

    // "1.0": the ABI version this agent was built with.
    static std::string hostAbi();

  private:
    static std::shared_ptr<const LoadedPlugin> loadFile(const std::filesystem::path& file);

    std::filesystem::path _directory;
};

}  // namespace sensorsys::agent
