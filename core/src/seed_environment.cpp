#include "seed_environment.hpp"

#include <fstream>
#include <stdexcept>

#include <Poco/String.h>

namespace sensorsys::agent {
namespace {

constexpr const char* kSeedVariables[] = {"API_SERVER", "DEVICE_ID", "DB_HOST",    "DB_PORT",
                                          "DB_NAME",    "DB_USER",   "DB_PASSWORD"};

// libpq quotes values with spaces or quotes in single quotes, backslash-escaped.
std::string libpqValue(const std::string& value) {
    if (!value.empty() && value.find_first_of(" '\\") == std::string::npos) return value;
    std::string quoted = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "'";
}

}  // namespace

Variables readDotEnv(const std::filesystem::path& file) {
    Variables variables;
    std::ifstream in(file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        std::string text = Poco::trim(line);
        if (text.empty() || text[0] == '#') continue;
        if (text.rfind("export ", 0) == 0) text = Poco::trim(text.substr(7));
        const auto eq = text.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                                     ": expected KEY=VALUE, got '" + text + "'");
        }
        std::string value = Poco::trim(text.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        variables[Poco::trim(text.substr(0, eq))] = value;
    }
    return variables;
}

Variables seedVariables(
    const Variables& dot_env,
    const std::function<std::optional<std::string>(const std::string&)>& environment) {
    Variables seed;
    for (const char* name : kSeedVariables) {
        if (auto value = environment(name)) {
            seed[name] = *value;
        } else if (const auto it = dot_env.find(name); it != dot_env.end()) {
            seed[name] = it->second;
        }
    }
    return seed;
}

Variables keysFromSeedVariables(const Variables& seed) {
    Variables keys;
    if (const auto it = seed.find("API_SERVER"); it != seed.end()) keys["sync.url"] = it->second;
    std::string connection;
    for (const auto& [variable, keyword] :
         {std::pair{"DB_HOST", "host"}, std::pair{"DB_PORT", "port"},
          std::pair{"DB_NAME", "dbname"}, std::pair{"DB_USER", "user"},
          std::pair{"DB_PASSWORD", "password"}}) {
        if (const auto it = seed.find(variable); it != seed.end()) {
            if (!connection.empty()) connection += ' ';
            connection.append(keyword).append("=").append(libpqValue(it->second));
        }
    }
    if (!connection.empty()) {
        keys["store.connection"] = connection;   // store.connector = postgresql: the seed's table
        keys["import.connection"] = connection;  // --import-seed: where the backlog is
    }
    return keys;
}

}  // namespace sensorsys::agent
