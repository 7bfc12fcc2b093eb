// One plugin of the build (lib/sensorsys/<file>), loaded through the agent's real loader, so a
// plugin's tests see exactly what the agent sees. Thread-safety: read-only after construction.
#pragma once

#include <sensorsys/plugin.h>

#include <memory>
#include <string>

namespace sensorsys::agent {
class LoadedPlugin;
}

namespace sensorsys::test {

class BuiltPlugin {
  public:
    // Throws std::runtime_error with the loader's refusal when the file does not load.
    BuiltPlugin(const std::string& directory, const std::string& file);
    ~BuiltPlugin();

    const sensorsys_plugin_descriptor& descriptor() const;

  private:
    std::shared_ptr<const agent::LoadedPlugin> _plugin;
};

}  // namespace sensorsys::test
