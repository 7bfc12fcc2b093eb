#include "status_command.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "store/open_store.hpp"

namespace sensorsys::agent {
namespace {

// The running agent's last status file, or an empty object when there is none.
Poco::JSON::Object::Ptr readStatusFile(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return Poco::makeShared<Poco::JSON::Object>();
    try {
        return Poco::JSON::Parser().parse(in).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        return Poco::makeShared<Poco::JSON::Object>();
    }
}

// Which time source dates the readings, since when, and how far the wall clock is from it; and
// why the server refused the last quarantined reading (a broken clock shows there).
void printClock(const Poco::JSON::Object& agent, std::ostream& out) {
    if (const auto clock = agent.getObject("clock")) {
        const std::string source = clock->optValue<std::string>("source", "none");
        out << "clock:        ";
        if (source == "none") {
            out << "no time source yet: readings are held until one answers\n";
        } else {
            char offset[48];
            std::snprintf(offset, sizeof offset, "%+.6f s",
                          static_cast<double>(clock->optValue<long long>("offset_us", 0)) / 1e6);
            out << source << " since " << clock->optValue<std::string>("since", "") << ", offset "
                << offset << " from the wall clock\n";
        }
    }
    const std::string reason = agent.optValue<std::string>("last_quarantine_reason", "");
    if (!reason.empty()) out << "quarantine:   last refused because " << reason << "\n";
}

// --status --json: the store's counts with the running agent's status file inside.
void printJson(const AgentSettings& settings, const StoreStats& stats,
               const Poco::JSON::Object::Ptr& agent, const std::string& where, std::ostream& out) {
    Poco::JSON::Object root;
    root.set("device_id", settings.deviceId);
    root.set("store", where);
    root.set("store_bytes", stats.sizeBytes);
    root.set("backlog", stats.unsynced);
    root.set("oldest_unsynced", stats.oldestUnsyncedTsUtc.value_or(""));
    root.set("synced_kept", stats.synced);
    root.set("quarantined", stats.quarantined);
    root.set("held", stats.held);
    root.set("deleted_synced", stats.deletedSynced);
    root.set("deleted_unsynced", stats.deletedUnsynced);
    root.set("agent", agent);
    root.stringify(out);
    out << "\n";
}

// Each sensor's last result, then how often each plugin host was restarted.
void printSensors(const Poco::JSON::Object& agent, std::ostream& out) {
    if (const auto sensors = agent.getObject("sensors")) {
        for (const auto& [name, value] : *sensors) {
            std::ostringstream result;
            Poco::JSON::Stringifier::stringify(value, result);
            out << "sensor " << name << ": " << result.str() << "\n";
        }
    }
    if (const auto restarts = agent.getObject("host_restarts")) {
        for (const auto& [name, value] : *restarts) {
            out << "sensor " << name << ": plugin host restarted " << value.convert<int>()
                << " time(s)\n";
        }
    }
}

}  // namespace

int printStatus(const AgentSettings& settings, bool json, std::ostream& out, std::ostream& err) {
    StoreStats stats;
    try {
        stats = openStore(settings)->stats();
    } catch (const std::exception& e) {
        err << "sensorsys-agent: cannot read the store: " << e.what() << "\n";
        return 1;
    }
    const auto agent = readStatusFile(settings.statusFile);
    const std::string where = settings.storeConnector == "sqlite"
                                  ? "sqlite " + settings.storePath
                                  : "postgresql (" + settings.storeConnection + ")";
    if (json) {
        printJson(settings, stats, agent, where, out);
        return 0;
    }
    out << "device:       " << settings.deviceId << "\n"
        << "store:        " << where << " (" << stats.sizeBytes / 1024 << " KiB)\n"
        << "backlog:      " << stats.unsynced << " unsynced reading(s)";
    if (stats.oldestUnsyncedTsUtc) out << ", oldest " << *stats.oldestUnsyncedTsUtc;
    if (stats.held > 0) out << " (" << stats.held << " held until the time is known)";
    out << "\n"
        << "synced kept:  " << stats.synced << "\n"
        << "quarantined:  " << stats.quarantined << " (refused by the server, not resent)\n"
        << "retention:    deleted " << stats.deletedSynced << " synced and "
        << stats.deletedUnsynced << " unsynced reading(s)\n";
    if (agent->size() == 0) {
        out << "agent:        no status file at " << settings.statusFile.string()
            << " (not running, or agent.status_file is off)\n";
        return 0;
    }
    const auto text = [&](const char* key) { return agent->optValue<std::string>(key, ""); };
    out << "agent:        pid " << agent->optValue<int>("pid", 0) << ", status of "
        << text("updated") << ", " << agent->optValue<long long>("produced", 0)
        << " stored this run, " << agent->optValue<long long>("skipped_ticks", 0)
        << " tick(s) skipped, " << agent->optValue<long long>("dropped", 0) << " dropped\n"
        << "last sync:    "
        << (text("last_sync_result").empty() ? "none yet" : text("last_sync_result"))
        << (text("last_sync_attempt").empty() ? "" : " at " + text("last_sync_attempt")) << "\n"
        << "last success: "
        << (text("last_sync_success").empty() ? "never" : text("last_sync_success")) << "\n";
    printClock(*agent, out);
    printSensors(*agent, out);
    return 0;
}

}  // namespace sensorsys::agent
