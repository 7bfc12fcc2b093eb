#include "store/open_store.hpp"

#include <stdexcept>

#include "store/postgres_backend.hpp"
#include "store/sqlite_store.hpp"

namespace sensorsys::agent {

StoreSettings StoreSettings::from(const AgentSettings& settings) {
    StoreSettings s;
    if (!settings.storeConnector.empty()) s.connector = settings.storeConnector;
    s.path = settings.storePath;
    s.connection = settings.storeConnection;
    return s;
}

std::unique_ptr<ReadingStore> openStore(const StoreSettings& settings) {
    if (settings.connector == "sqlite") {
        if (settings.path.empty()) throw std::invalid_argument("store.path is empty");
        return std::make_unique<SqliteStore>(settings.path);
    }
    if (settings.connector == "postgresql") {
        return loadPostgresBackend().openStore(settings.connection);
    }
    throw std::invalid_argument("store.connector '" + settings.connector +
                                "' is not one of sqlite|postgresql");
}

}  // namespace sensorsys::agent
