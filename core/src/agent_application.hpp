// sensorsys-agent: the Poco ServerApplication that parses the command line, loads the
// configuration and plugins, and runs the requested mode (--once, --list-plugins, or the
// reading loop). Single instance per process; main() runs on the main thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Poco/ThreadPool.h>
#include <Poco/Util/ServerApplication.h>

#include "agent_config.hpp"
#include "plugin_loader.hpp"

namespace sensorsys::agent {

class AgentApplication : public Poco::Util::ServerApplication {
  public:
    AgentApplication();

    // SIGINT, SIGTERM and SIGQUIT: blocked in every thread for the reading loop (it waits for
    // them); the one-shot modes unblock them on the main thread so Ctrl-C still ends them.
    static void blockTerminationSignals();
    static void unblockTerminationSignals();

  protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const ArgVec& args) override;

  private:
    enum class Mode { Run, Once, ListPlugins, Status, CheckApi, ImportSeed, Help, Version };

    // Layers the configuration: file, then environment, then --define. Throws ConfigError.
    void loadLayers();
    void setUpLogging(const AgentSettings& settings);
    int listPlugins(const AgentSettings& settings);
    int runOnce(const AgentSettings& settings);
    int runLoop(const AgentSettings& settings);
    int runImport(const AgentSettings& settings);
    void printHelp();

    Mode _mode = Mode::Run;
    bool _json = false;
    std::string _configFile;
    std::vector<std::pair<std::string, std::string>> _defines;
    std::map<std::string, std::string> _seed;  // the seed's variables in effect
    // Creates and reads; grown by the Sampler to one thread per instance plus a margin.
    Poco::ThreadPool _pool;
};

}  // namespace sensorsys::agent
