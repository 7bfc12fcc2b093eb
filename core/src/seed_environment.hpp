// The seed's environment variables (API_SERVER, DEVICE_ID, DB_HOST, DB_PORT, DB_NAME, DB_USER,
// DB_PASSWORD), read from the process environment over a .env file, and what they mean in
// sensorsys' configuration keys. Pure functions; safe from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace sensorsys::agent {

using Variables = std::map<std::string, std::string>;

// KEY=VALUE lines of a .env file: blank lines and # comments skipped, an `export ` prefix and
// matching quotes removed. A missing file is empty. Throws std::runtime_error naming the file
// and line for a line that is not KEY=VALUE.
Variables readDotEnv(const std::filesystem::path& file);

// The seed's variables: from `environment` where set, else from `dot_env`.
Variables seedVariables(
    const Variables& dot_env,
    const std::function<std::optional<std::string>(const std::string&)>& environment);

// Configuration keys the seed's variables set: sync.url from API_SERVER; store.connection and
// import.connection from the DB_* variables (a libpq key=value string: the seed's local
// database, used by store.connector=postgresql and by --import-seed). DEVICE_ID is not a key here:
// it only applies when agent.device_id is empty.
Variables keysFromSeedVariables(const Variables& seed);

}  // namespace sensorsys::agent
