#include "agent_application.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Environment.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/SplitterChannel.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <sensorsys/common/seed_log_formatter.hpp>

#include "agent_runtime.hpp"
#include "check_api_command.hpp"
#include "clock_seam.hpp"
#include "held_readings.hpp"
#include "retention.hpp"
#include "sampler.hpp"
#include "seed_environment.hpp"
#include "seed_import.hpp"
#include "status_command.hpp"
#include "store/open_store.hpp"
#include "sync/bulk_client.hpp"
#include "sync/syncer.hpp"
#include "time_source.hpp"

#ifndef SENSORSYS_VERSION
#define SENSORSYS_VERSION "0.0.0"
#endif

namespace sensorsys::agent {
namespace {

using Poco::Util::Option;

constexpr const char* kDefaultConfigFile = "/etc/sensorsys/agent.properties";
// Configuration layers, highest priority first (lower number wins in LayeredConfiguration).
constexpr int kPriorityDefines = -300;
constexpr int kPriorityEnvironment = -200;

std::string hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return {};
    return name;
}

// Prints one line to stdout and pushes it out at once (stdout may be a pipe).
void emit(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace

AgentApplication::AgentApplication() : _pool(2, 64, 60) {
    setUnixOptions(true);
    // Poco's Application::setup() (release builds) installs Poco::SignalHandler for SIGILL,
    // SIGBUS, SIGSEGV and SIGSYS: it throws a C++ exception out of the signal handler, so a
    // plugin's crash ends as SIGABRT. Restore the defaults so systemd and the core dump see
    // the real signal.
    for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT}) {
        std::signal(sig, SIG_DFL);
    }
}

namespace {

sigset_t terminationSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    return set;
}

}  // namespace

void AgentApplication::blockTerminationSignals() {
    const sigset_t set = terminationSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void AgentApplication::unblockTerminationSignals() {
    const sigset_t set = terminationSignals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void AgentApplication::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "print this help and the configuration keys, then exit"));
    options.addOption(Option("version", "", "print the version and plugin ABI, then exit"));
    options.addOption(
        Option("config", "c",
               "read configuration from FILE (default " + std::string(kDefaultConfigFile) + ")")
            .required(false)
            .repeatable(false)
            .argument("FILE"));
    options.addOption(Option("define", "D", "set configuration key KEY to VALUE (repeatable)")
                          .required(false)
                          .repeatable(true)
                          .argument("KEY=VALUE"));
    options.addOption(Option("once", "", "take one reading, print it as JSON on stdout, exit"));
    options.addOption(
        Option("list-plugins", "", "list every plugin file with its version, ABI and status"));
    options.addOption(
        Option("status", "", "show the backlog, last sync and each sensor's last result"));
    options.addOption(
        Option("check-api", "", "check the server: reachable, TLS, token, clock skew (exit 0/1)"));
    options.addOption(Option("import-seed", "",
                             "copy a seed agent's unsynced readings (import.connection) into the "
                             "store, then exit"));
    options.addOption(
        Option("json", "", "with --list-plugins or --status: print JSON instead of text"));
}

void AgentApplication::handleOption(const std::string& name, const std::string& value) {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
        _mode = Mode::Help;
        stopOptionsProcessing();
    } else if (name == "version") {
        _mode = Mode::Version;
    } else if (name == "config") {
        _configFile = value;
    } else if (name == "define") {
        const auto eq = value.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw Poco::Util::InvalidArgumentException("--define needs KEY=VALUE, got '" + value +
                                                       "'");
        }
        _defines.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (name == "once") {
        _mode = Mode::Once;
    } else if (name == "list-plugins") {
        _mode = Mode::ListPlugins;
    } else if (name == "status") {
        _mode = Mode::Status;
    } else if (name == "import-seed") {
        _mode = Mode::ImportSeed;
    } else if (name == "check-api") {
        _mode = Mode::CheckApi;
    } else if (name == "json") {
        _json = true;
    }
}

void AgentApplication::printHelp() {
    Poco::Util::HelpFormatter help(options());
    help.setCommand("sensorsys-agent");
    help.setUsage(
        "[--config FILE] [--define KEY=VALUE]... [--once | --list-plugins | --status | "
        "--check-api] [--json]");
    help.setHeader(
        "Reads sensors through drop-in plugins, buffers every reading and syncs it to a "
        "sensorsys server.");
    help.setUnixStyle(true);
    help.format(std::cout);
    std::cout << "\n" << configKeysHelp();
}

void AgentApplication::loadLayers() {
    const std::string file = _configFile.empty() ? kDefaultConfigFile : _configFile;
    if (!_configFile.empty() || std::filesystem::exists(file)) {
        try {
            config().add(Poco::makeAuto<Poco::Util::PropertyFileConfiguration>(file), PRIO_DEFAULT);
        } catch (const Poco::Exception& e) {
            throw ConfigError("invalid configuration: cannot read config file " + file + ": " +
                              e.displayText());
        }
    }
    // The seed's variables, from the environment over a .env file (next to the config file,
    // else in the working directory), so a Pi moving over keeps its settings.
    const auto beside = std::filesystem::path(file).parent_path() / ".env";
    const auto dot_env_file =
        std::filesystem::exists(beside) ? beside : std::filesystem::path(".env");
    Variables dot_env;
    try {
        dot_env = readDotEnv(dot_env_file);
    } catch (const std::runtime_error& e) {
        throw ConfigError(std::string("invalid configuration: ") + e.what());
    }
    _seed = seedVariables(dot_env, [](const std::string& name) -> std::optional<std::string> {
        if (!Poco::Environment::has(name)) return std::nullopt;
        return Poco::Environment::get(name);
    });
    auto environment = Poco::makeAuto<Poco::Util::MapConfiguration>();
    for (const auto& [key, value] : keysFromSeedVariables(_seed))
        environment->setString(key, value);
    config().add(environment, kPriorityEnvironment);

    auto defines = Poco::makeAuto<Poco::Util::MapConfiguration>();
    for (const auto& [key, value] : _defines) defines->setString(key, value);
    config().add(defines, kPriorityDefines);
}

void AgentApplication::setUpLogging(const AgentSettings& settings) {
    auto splitter = Poco::makeAuto<Poco::SplitterChannel>();
    splitter->addChannel(Poco::makeAuto<Poco::ConsoleChannel>());
    if (!settings.loggingFile.empty()) {
        auto file = Poco::makeAuto<Poco::FileChannel>(settings.loggingFile);
        file->setProperty("rotation", "10 M");
        file->setProperty("archive", "number");
        file->setProperty("purgeCount", "5");
        splitter->addChannel(file);
    }
    auto channel =
        Poco::makeAuto<Poco::FormattingChannel>(Poco::makeAuto<SeedLogFormatter>(), splitter);
    Poco::Logger::root().setChannel(channel);
    // logging.level was checked against its choices when the settings were loaded.
    const auto level = SeedLogFormatter::priorityOf(settings.loggingLevel)
                           .value_or(Poco::Message::PRIO_INFORMATION);
    Poco::Logger::root().setLevel(level);
    logger().setChannel(channel);
    logger().setLevel(level);
}

int AgentApplication::main(const ArgVec& args) {
    if (_mode != Mode::Run) unblockTerminationSignals();
    if (_mode == Mode::Help) {
        printHelp();
        return EXIT_OK;
    }
    if (_mode == Mode::Version) {
        std::cout << "sensorsys-agent " << SENSORSYS_VERSION << " (plugin ABI "
                  << PluginLoader::hostAbi() << ")\n";
        return EXIT_OK;
    }
    if (!args.empty()) {
        std::cerr << "sensorsys-agent: unexpected argument '" << args.front() << "' (see --help)\n";
        return EXIT_USAGE;
    }
    try {
        loadLayers();
        const AgentSettings settings =
            AgentSettings::from(config(), Poco::Environment::get("DEVICE_ID", ""), hostname());
        setUpLogging(settings);
        if (settings.deviceIdIsHostname && settings.deviceId == "raspberrypi") {
            logger().warning(
                "device_id is the stock host name 'raspberrypi': set agent.device_id so this "
                "device's readings can be told apart");
        }
        switch (_mode) {
            case Mode::ListPlugins:
                return listPlugins(settings);
            case Mode::Once:
                return runOnce(settings);
            case Mode::Status:
                return printStatus(settings, _json, std::cout, std::cerr);
            case Mode::CheckApi:
                return checkApi(settings, std::cout);
            case Mode::ImportSeed:
                return runImport(settings);
            default:
                return runLoop(settings);
        }
    } catch (const ConfigError& e) {
        std::cerr << "sensorsys-agent: " << e.what() << "\n";
        return EXIT_CONFIG;
    }
}

namespace {

Poco::JSON::Array keysJson(const LoadedPlugin& plugin) {
    Poco::JSON::Array keys;
    for (const auto& key : plugin.configKeys().value_or(std::vector<PluginConfigKey>{})) {
        Poco::JSON::Object entry;
        entry.set("name", key.name);
        entry.set("type", key.type);
        entry.set("default", key.defaultValue);
        entry.set("description", key.description);
        keys.add(entry);
    }
    return keys;
}

std::string abiOf(const LoadedPlugin& plugin) {
    return std::to_string(plugin.descriptor().abi_major) + "." +
           std::to_string(plugin.descriptor().abi_minor);
}

std::string pluginListJson(const PluginScan& scan, const std::filesystem::path& directory) {
    Poco::JSON::Object root;
    root.set("directory", directory.string());
    root.set("agent_abi", PluginLoader::hostAbi());
    Poco::JSON::Array plugins;
    for (const auto& plugin : scan.loaded) {
        Poco::JSON::Object entry;
        entry.set("file", plugin->path().string());
        entry.set("name", plugin->name());
        entry.set("version", plugin->version());
        entry.set("abi", abiOf(*plugin));
        entry.set("description", plugin->description());
        entry.set("status", "loaded");
        entry.set("config_keys", keysJson(*plugin));
        plugins.add(entry);
    }
    for (const auto& refusal : scan.refused) {
        Poco::JSON::Object entry;
        entry.set("file", refusal.file.string());
        entry.set("abi", refusal.pluginAbi.value_or(""));
        entry.set("status", "refused");
        entry.set("reason", refusal.reason);
        plugins.add(entry);
    }
    root.set("plugins", plugins);
    std::ostringstream out;
    root.stringify(out);
    return out.str();
}

std::string pluginListText(const PluginScan& scan, const std::filesystem::path& directory) {
    std::ostringstream out;
    out << "plugins in " << directory.string() << " (agent ABI " << PluginLoader::hostAbi()
        << "):\n";
    for (const auto& plugin : scan.loaded) {
        out << "  " << plugin->name() << " " << plugin->version() << " ABI " << abiOf(*plugin)
            << " loaded from " << plugin->path().filename().string() << ": "
            << plugin->description() << "\n";
        for (const auto& key : plugin->configKeys().value_or(std::vector<PluginConfigKey>{})) {
            out << "      sensor.NAME." << key.name << " (" << key.type
                << ", default: " << (key.defaultValue.empty() ? "empty" : key.defaultValue)
                << "): " << key.description << "\n";
        }
    }
    for (const auto& refusal : scan.refused) {
        out << "  " << refusal.file.filename().string() << " refused: " << refusal.reason
            << " (plugin ABI " << refusal.pluginAbi.value_or("unknown") << ")\n";
    }
    if (scan.loaded.empty() && scan.refused.empty()) out << "  (no *.so files)\n";
    return out.str();
}

}  // namespace

int AgentApplication::listPlugins(const AgentSettings& settings) {
    const PluginScan scan = PluginLoader(settings.pluginsDir).loadAll();
    if (_json) {
        emit(pluginListJson(scan, settings.pluginsDir));
    } else {
        std::cout << pluginListText(scan, settings.pluginsDir) << std::flush;
    }
    const bool directory_unusable = scan.loaded.empty() && scan.refused.size() == 1 &&
                                    scan.refused.front().file == settings.pluginsDir;
    return directory_unusable ? EXIT_UNAVAILABLE : EXIT_OK;
}

namespace {

// Loads the plugins (logging each refusal) and builds the configured instances.
std::vector<SensorSpec> loadSensors(const AgentSettings& settings,
                                    const Poco::Util::AbstractConfiguration& config,
                                    const PluginScan& scan, Poco::Logger& logger) {
    for (const auto& refusal : scan.refused) logger.warning("plugin refused: " + refusal.message());
    std::vector<PluginKeys> plugins;
    for (const auto& plugin : scan.loaded) {
        logger.information("plugin " + plugin->name() + " " + plugin->version() + " loaded from " +
                           plugin->path().string());
        plugins.push_back({plugin->name(), plugin->configKeys()});
    }
    return sensorSpecs(config, settings, plugins);
}

// Ends the process without destructors or atexit handlers. Abandoned reads hold pool threads
// that cannot be joined, and a plugin may leave threads of its own running after destroy();
// either could crash a normal exit's teardown and turn a clean stop into a core dump. The
// store, the status file and the logs are written out before this is called.
[[noreturn]] void exitAbandoningReads(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
}

// The crash note beside the status file, after logging what the last run was calling when it
// died. --once keeps its own, so that it never takes a running daemon's calls for a crash.
std::shared_ptr<const CallNote> openCallNote(const AgentSettings& settings, bool once,
                                             Poco::Logger& logger) {
    if (settings.statusFile.empty()) return nullptr;
    auto note = std::make_shared<const CallNote>(settings.statusFile.string() +
                                                 (once ? ".once-calls" : ".calls"));
    for (const auto& call : note->interrupted()) logger.error("the agent died while " + call);
    return note;
}

// The reading loop blocks SIGTERM, SIGINT and SIGQUIT in every thread: one sent meanwhile
// waits as pending until waitForTerminationRequest() takes it.
bool terminationRequested() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
           sigismember(&pending, SIGQUIT) == 1;
}

void writeLine(int fd, std::string text) {
    text += '\n';
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// Before a drain: no source has answered in this boot yet, so ask the server for the time
// (readings are held until then; an unreachable server is simply asked again at the next
// drain), then date and release what waits.
void learnTimeAndRelease(BulkClient& client, TimeSource& time, HeldReadings& held) {
    if (!time.known() && time.wantsServerTime()) {
        try {
            client.get("/auth/check");
        } catch (const Poco::Exception&) {
            // not reachable yet: the readings stay held
        }
    }
    held.release();
}

}  // namespace

int AgentApplication::runOnce(const AgentSettings& settings) {
    // stdout carries the reading and nothing else: a plugin's printf goes to stderr instead.
    std::fflush(stdout);
    const int json_out = ::dup(STDOUT_FILENO);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    {
        const PluginScan scan = PluginLoader(settings.pluginsDir).loadAll();
        Sampler sampler(settings, loadSensors(settings, config(), scan, logger()), scan, _pool,
                        logger(), openCallNote(settings, true, logger()));
        try {
            sampler.awaitCreates();
        } catch (const ConfigError& e) {
            // Not left to main(): Poco's pool would wait for a create still running.
            std::cerr << "sensorsys-agent: " << e.what() << "\n";
            exitAbandoningReads(EXIT_CONFIG);
        }
        const Reading reading = sampler.sample(std::chrono::system_clock::now(), true);
        writeLine(json_out >= 0 ? json_out : STDERR_FILENO, reading.toJson());
    }
    exitAbandoningReads(EXIT_OK);
}

int AgentApplication::runImport(const AgentSettings& settings) {
    if (settings.importConnection.empty()) {
        throw ConfigError(
            "invalid configuration: import.connection = '': --import-seed needs the seed "
            "database (set import.connection or DB_HOST, DB_NAME, DB_USER, DB_PASSWORD)");
    }
    try {
        const auto store = openStore(settings);
        const ImportResult result = importSeed(settings.importConnection, *store, logger());
        std::cout << "imported " << result.imported << " unsynced reading(s) from the seed"
                  << (result.imported ? " (" + result.firstTsUtc + " to " + result.lastTsUtc + ")"
                                      : std::string())
                  << "; they sync with the next run of the agent\n";
        return EXIT_OK;
    } catch (const std::exception& e) {
        std::cerr << "sensorsys-agent: " << e.what() << "\n";
        return EXIT_UNAVAILABLE;
    }
}

int AgentApplication::runLoop(const AgentSettings& settings) {
    int code = EXIT_OK;
    {
        const PluginScan scan = PluginLoader(settings.pluginsDir).loadAll();
        Sampler sampler(settings, loadSensors(settings, config(), scan, logger()), scan, _pool,
                        logger(), openCallNote(settings, false, logger()));
        if (sampler.instanceCount() == 0) {
            logger().error("no sensor instances to read: nothing to do (see --list-plugins)");
            return EXIT_UNAVAILABLE;
        }
        const auto store = openStore(settings);
        BulkClient client(settings.syncUrl, settings.syncToken, settings.syncTimeout);
        Syncer syncer(
            *store, client,
            SyncSettings{static_cast<std::size_t>(settings.syncBatchSize), settings.syncGzip,
                         std::chrono::milliseconds(1000), settings.syncBackoffMax},
            Poco::Logger::get("sensorsys.sync"));
        SystemClockSeam seam;
        TimeSource time(
            seam, parseClockMode(settings.clockSource),
            std::chrono::duration_cast<std::chrono::microseconds>(settings.clockMaxError));
        client.observeServerTime(&time);
        HeldReadings held(*store, time, logger());
        syncer.prepareWith([&] { learnTimeAndRelease(client, time, held); });
        const StatvfsUsage disk;
        Retention retention(RetentionSettings::from(settings), *store, disk);
        AgentRuntime runtime(settings, sampler, *store, syncer, retention, time,
                             settings.statusFile, logger());
        runtime.start();
        logger().information("reading " + std::to_string(sampler.instanceCount()) +
                             " sensor instance(s) as device '" + settings.deviceId +
                             "', syncing to " + settings.syncUrl);
        // The creates run while the readings go on: a slow one delays only its own sensor.
        try {
            sampler.awaitCreates(terminationRequested);
        } catch (const ConfigError& e) {
            std::cerr << "sensorsys-agent: " << e.what() << "\n";
            code = EXIT_CONFIG;
        }
        if (code == EXIT_OK) waitForTerminationRequest();
        logger().information("stopping");
        const bool clean = runtime.stop();
        const RuntimeCounters counters = runtime.counters();
        logger().information("stopped: " + std::to_string(counters.produced) +
                             " reading(s) stored this run");
        if (!clean) exitAbandoningReads(code);
    }
    exitAbandoningReads(code);
}

}  // namespace sensorsys::agent
