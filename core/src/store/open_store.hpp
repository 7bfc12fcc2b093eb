// Chooses and opens the store the configuration names (store.connector, store.path,
// store.connection). Stateless; safe from any thread.
#pragma once

#include <memory>
#include <string>

#include "agent_config.hpp"
#include "store/reading_store.hpp"

namespace sensorsys::agent {

struct StoreSettings {
    std::string connector = "sqlite";  // "sqlite" | "postgresql"
    std::string path;                  // SQLite file
    std::string connection;            // libpq key=value string

    static StoreSettings from(const AgentSettings& settings);
};

// Opens and migrates the store. An unreachable database does not throw here (the store logs
// it and reconnects on each call, throwing StoreUnavailable meanwhile); an unknown connector
// throws std::invalid_argument.
std::unique_ptr<ReadingStore> openStore(const StoreSettings& settings);
inline std::unique_ptr<ReadingStore> openStore(const AgentSettings& settings) {
    return openStore(StoreSettings::from(settings));
}

}  // namespace sensorsys::agent
