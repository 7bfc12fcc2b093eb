// sensorsys-server: serve the API, or with --migrate / `token ...` manage the database.
#include "connection_pool.hpp"
#include "http_server.hpp"
#include "migrator.hpp"
#include "pooler_check.hpp"
#include "rollup_worker.hpp"
#include "server_config.hpp"
#include "token_store.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/NumberParser.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <iostream>

#include <sensorsys/common/seed_log_formatter.hpp>

namespace sensorsys::server {
namespace {

constexpr int kExitUsage = 64;        // EX_USAGE
constexpr int kExitConfig = 78;       // EX_CONFIG
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE

class ServerApp : public Poco::Util::ServerApplication {
  protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        using Poco::Util::Option;
        using Poco::Util::OptionCallback;
        options.addOption(Option("help", "h", "show this help and exit")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onHelp)));
        options.addOption(Option("version", "", "print the version and exit")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onVersion)));
        options.addOption(Option("config", "c", "read configuration from FILE")
                              .argument("FILE")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onConfig)));
        options.addOption(Option("define", "D", "set configuration key=value (repeatable)")
                              .argument("key=value")
                              .repeatable(true)
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onDefine)));
        options.addOption(Option("migrate", "", "apply database migrations and exit")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onMigrate)));
        options.addOption(Option("device", "", "token create: a write token for device D")
                              .argument("D")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onDevice)));
        options.addOption(Option("read", "", "token create: a read token")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onRead)));
        options.addOption(Option("admin", "", "token create: an admin token")
                              .callback(OptionCallback<ServerApp>(this, &ServerApp::onAdmin)));
    }

    void initialize(Application& self) override {
        if (!_configFile.empty()) loadConfiguration(_configFile, PRIO_APPLICATION);
        ServerApplication::initialize(self);
        // --define wins over the file (docs/contract.md §8): a layer of its own above the file's,
        // since setString() would write to the first writeable layer - below a loaded file.
        Poco::AutoPtr<Poco::Util::MapConfiguration> defined(new Poco::Util::MapConfiguration);
        for (const auto& [key, value] : _defines) defined->setString(key, value);
        config().add(defined, PRIO_APPLICATION - 1, false);
        // The agent's line format (the seed's), so one log scraper reads both; the level is set
        // in main() once the configuration has been checked.
        auto channel = Poco::makeAuto<Poco::FormattingChannel>(
            Poco::makeAuto<SeedLogFormatter>(), Poco::makeAuto<Poco::ConsoleChannel>(std::cerr));
        Poco::Logger::get("sensorsys-server").setChannel(channel);
    }

    int main(const ArgVec& args) override {
        if (_helpRequested) return EXIT_OK;
        Poco::Logger& log = Poco::Logger::get("sensorsys-server");
        ServerConfig cfg;
        try {
            cfg = ServerConfig::load(config());
        } catch (const ConfigError& e) {
            std::cerr << "sensorsys-server: " << e.what() << "\n";
            return kExitConfig;
        }
        log.setLevel(cfg.logLevel);
        Poco::Data::PostgreSQL::Connector::registerConnector();
        try {
            if (!args.empty() && args[0] != "token") {
                std::cerr << "sensorsys-server: unknown command '" << args[0] << "' (try --help)\n";
                return kExitUsage;
            }
            // Before anything touches the database: through a pooler that does not keep
            // sessions, migrations and requests would fail at random (docs/pgbouncer.md).
            const std::chrono::seconds wait(cfg.connectTimeoutSeconds);
            auto problem =
                sessionPoolingProblem("database.connection", cfg.databaseConnection, wait);
            if (!problem && !cfg.readConnection.empty()) {
                problem =
                    sessionPoolingProblem("database.read_connection", cfg.readConnection, wait);
            }
            if (problem) {
                std::cerr << "sensorsys-server: " << *problem << "\n";
                return kExitConfig;
            }
            if (!args.empty()) return tokenCommand(cfg, args);
            if (_migrateOnly) return migrateCommand(cfg);
            raiseFileLimit(log);
            // Before any thread starts, so every thread inherits the mask and only the wait
            // below takes these signals.
            const sigset_t signals = blockServerSignals();
            ApiServer server(cfg, log);
            server.start();
            waitForTermination(signals, server);
            log.information("stopping: draining in-flight requests");
            server.stop();
            log.information("stopped");
            return EXIT_OK;
        } catch (const DatabaseUnavailable& e) {
            log.critical(e.what());
            return kExitUnavailable;
        } catch (const Poco::Exception& e) {
            log.critical(e.displayText());
            return EXIT_SOFTWARE;
        } catch (const std::exception& e) {
            log.critical(e.what());
            return EXIT_SOFTWARE;
        }
    }

  private:
    static sigset_t blockServerSignals() {
        sigset_t set;
        sigemptyset(&set);
        for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        return set;
    }

    // Until SIGINT, SIGQUIT or SIGTERM; SIGHUP reloads the alert rules.
    static void waitForTermination(const sigset_t& signals, ApiServer& server) {
        while (true) {
            int sig = 0;
            if (sigwait(&signals, &sig) != 0) continue;
            if (sig != SIGHUP) return;
            server.reloadAlerts();
        }
    }

    // Each keep-alive client holds a descriptor: lift the soft limit to the hard one.
    static void raiseFileLimit(Poco::Logger& log) {
        rlimit lim{};
        if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
            lim.rlim_cur = lim.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
                log.warning("cannot raise the open-file limit");
        }
    }

    static int migrateCommand(const ServerConfig& cfg) {
        auto session = ConnectionPool::connect(cfg.databaseConnection, cfg.connectTimeoutSeconds);
        const auto applied = migrate(session);
        PartitionMaintenance::makeAhead(session, cfg.partitions);
        PartitionMaintenance::moveAll(session, cfg.partitions, std::cerr);
        RollupWorker::backfill(session, std::cerr);
        grantReadOnlyRole(session, std::cerr);
        std::cout << (applied.empty()
                          ? "schema up to date"
                          : "applied " + std::to_string(applied.size()) + " migration(s)")
                  << "\n";
        return EXIT_OK;
    }

    int tokenCommand(const ServerConfig& cfg, const ArgVec& args) {
        auto session = ConnectionPool::connect(cfg.databaseConnection, cfg.connectTimeoutSeconds);
        migrate(session);
        TokenStore tokens(session);
        const std::string sub = args.size() > 1 ? args[1] : "";
        if (sub == "create") {
            const int kinds =
                (_tokenDevice.empty() ? 0 : 1) + (_tokenRead ? 1 : 0) + (_tokenAdmin ? 1 : 0);
            if (kinds != 1 || args.size() != 2) {
                std::cerr
                    << "usage: sensorsys-server token create (--device D | --read | --admin)\n";
                return kExitUsage;
            }
            const Scope scope =
                _tokenAdmin ? Scope::Admin : (_tokenRead ? Scope::Read : Scope::Device);
            std::cout << tokens.create(scope, _tokenDevice) << std::endl;
            return EXIT_OK;
        }
        if (sub == "list" && args.size() == 2) {
            std::cout << "id\tscope\tdevice_id\tcreated\trevoked\n";
            for (const auto& t : tokens.list()) {
                std::cout << t.id << "\t" << scopeName(t.scope) << "\t"
                          << (t.deviceId.empty() ? "-" : t.deviceId) << "\t" << t.createdAt << "\t"
                          << (t.revokedAt.empty() ? "-" : t.revokedAt) << "\n";
            }
            return EXIT_OK;
        }
        if (sub == "revoke" && args.size() == 3) {
            Poco::Int64 id = 0;
            if (!Poco::NumberParser::tryParse64(args[2], id)) {
                std::cerr << "sensorsys-server: token revoke: '" << args[2]
                          << "' is not a token id\n";
                return kExitUsage;
            }
            if (!tokens.revoke(id)) {
                std::cerr << "sensorsys-server: token revoke: no active token with id " << id
                          << "\n";
                return EXIT_DATAERR;
            }
            std::cout << "revoked token " << id << "\n";
            return EXIT_OK;
        }
        std::cerr << "usage: sensorsys-server token create (--device D | --read | --admin) | token "
                     "list | "
                     "token revoke ID\n";
        return kExitUsage;
    }

    void onHelp(const std::string&, const std::string&) {
        _helpRequested = true;
        Poco::Util::HelpFormatter help(options());
        help.setCommand(commandName());
        help.setUsage(
            "[--config FILE] [--define key=value]... [--migrate | token create (--device D | "
            "--read "
            "| --admin) | token list | token revoke ID]");
        help.setHeader("The sensorsys API server (HTTP, PostgreSQL).");
        help.format(std::cout);
        // Not a HelpFormatter footer: it would re-wrap the key table.
        std::cout << "\nConfiguration keys (properties file, --define key=value):\n"
                  << configKeys().help();
        stopOptionsProcessing();
    }
    void onVersion(const std::string&, const std::string&) {
        std::cout << "sensorsys-server " << SENSORSYS_VERSION << "\n";
        _helpRequested = true;  // nothing else to do
        stopOptionsProcessing();
    }
    void onConfig(const std::string&, const std::string& value) { _configFile = value; }
    void onDefine(const std::string&, const std::string& value) {
        const auto eq = value.find('=');
        if (eq == std::string::npos) {
            _defines.emplace_back(value, "");
        } else {
            _defines.emplace_back(value.substr(0, eq), value.substr(eq + 1));
        }
    }
    void onMigrate(const std::string&, const std::string&) { _migrateOnly = true; }
    void onDevice(const std::string&, const std::string& value) { _tokenDevice = value; }
    void onRead(const std::string&, const std::string&) { _tokenRead = true; }
    void onAdmin(const std::string&, const std::string&) { _tokenAdmin = true; }

    bool _helpRequested = false;
    bool _migrateOnly = false;
    bool _tokenRead = false;
    bool _tokenAdmin = false;
    std::string _tokenDevice;
    std::string _configFile;
    std::vector<std::pair<std::string, std::string>> _defines;
};

}  // namespace
}  // namespace sensorsys::server

int main(int argc, char** argv) {
    // One thread per connection: glibc would give busy threads their own malloc arenas
    // (up to 8 per core), each keeping freed request buffers. Two arenas keep RSS flat.
    mallopt(M_ARENA_MAX, 2);
    // Blocks of 1 MiB and more (a big request body, a long reading, its answer) are mapped
    // and unmapped on their own, so they go back to the system when freed. Without a fixed
    // threshold glibc raises it after the first such free, up to 32 MiB, and later big blocks
    // stay on the heap: one 10 MB reading left RSS 50 MB up for good.
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    sensorsys::server::ServerApp app;
    return app.run(argc, argv);
}
