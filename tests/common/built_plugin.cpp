#include "built_plugin.hpp"

#include <stdexcept>

#include "plugin_loader.hpp"

namespace sensorsys::test {

BuiltPlugin::BuiltPlugin(const std::string& directory, const std::string& file) {
    const agent::PluginScan scan = agent::PluginLoader(directory).loadAll();
    for (const auto& plugin : scan.loaded) {
        if (plugin->path().filename() == file) {
            _plugin = plugin;
            return;
        }
    }
    for (const auto& refusal : scan.refused) {
        if (refusal.file.filename() == file) throw std::runtime_error(refusal.message());
    }
    throw std::runtime_error(file + " not found in " + directory);
}

BuiltPlugin::~BuiltPlugin() = default;

const sensorsys_plugin_descriptor& BuiltPlugin::descriptor() const {
    return _plugin->descriptor();
}

}  // namespace sensorsys::test
