#include "plugin_loader.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <regex>
#include <set>
#include <system_error>

namespace sensorsys::agent {
namespace {

namespace fs = std::filesystem;

// Internal: carries a refusal out of the per-file checks.
struct Refused {
    explicit Refused(std::string why, std::optional<std::string> abi = std::nullopt)
        : reason(std::move(why)), pluginAbi(std::move(abi)) {}
    std::string reason;
    std::optional<std::string> pluginAbi;
};

std::string abiText(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

// Group- or world-writable files or folders let someone else run code inside the agent.
std::optional<std::string> writableByOthers(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::string("cannot stat: ") + std::strerror(errno);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string("writable by ") + ((st.st_mode & S_IWOTH) ? "others" : "group") +
               " (mode " + mode + "); refusing to load code others can change";
    }
    return std::nullopt;
}

// The entry must be a function: a data symbol of that name would be "called" into garbage.
bool isFunctionSymbol(const void* address) {
    Dl_info info{};
    void* entry = nullptr;
    if (dladdr1(address, &info, &entry, RTLD_DL_SYMENT) == 0 || entry == nullptr) return false;
    const auto* symbol = static_cast<const ElfW(Sym)*>(entry);
    return ELF64_ST_TYPE(symbol->st_info) == STT_FUNC ||
           ELF64_ST_TYPE(symbol->st_info) == STT_GNU_IFUNC;
}

bool validName(const char* name) {
    static const std::regex pattern("[a-z0-9_]{1,64}");
    return name != nullptr && std::regex_match(name, pattern);
}

bool declaresConfigKeys(const sensorsys_plugin_descriptor& offered) {
    return offered.struct_size >=
           offsetof(sensorsys_plugin_descriptor, config_keys) + sizeof offered.config_keys;
}

// One entry of a plugin's key table, or the reason it cannot be trusted.
PluginConfigKey checkedKey(const sensorsys_config_key& key, std::size_t index,
                           const std::vector<PluginConfigKey>& before,
                           const std::string& pluginAbi) {
    const std::string where = "config key " + std::to_string(index) + " ('" + key.name + "')";
    if (key.type == nullptr || key.default_value == nullptr || key.description == nullptr) {
        throw Refused{where + " has a NULL type, default or description", pluginAbi};
    }
    const std::string type = key.type;
    if (type != "string" && type != "integer" && type != "number" && type != "boolean") {
        throw Refused{
            where + " has type '" + type + "', not one of string, integer, number, boolean",
            pluginAbi};
    }
    const bool repeated = std::any_of(before.begin(), before.end(),
                                      [&](const auto& k) { return k.name == key.name; });
    if (!validName(key.name) || repeated) {
        throw Refused{where + " is not a unique name of [a-z0-9_]", pluginAbi};
    }
    return {key.name, type, key.default_value, key.description};
}

// Copies the plugin's key table, refusing one the host cannot trust to end or to make sense.
std::vector<PluginConfigKey> configKeysOf(const sensorsys_config_key* table,
                                          const std::string& pluginAbi) {
    constexpr std::size_t kMaxKeys = 256;
    std::size_t count = 0;
    while (count <= kMaxKeys && table[count].name != nullptr) ++count;
    if (count > kMaxKeys) {
        throw Refused{"config key table has no NULL-named end within " + std::to_string(kMaxKeys) +
                          " entries",
                      pluginAbi};
    }
    std::vector<PluginConfigKey> keys;
    for (std::size_t i = 0; i < count; ++i) {
        keys.push_back(checkedKey(table[i], i, keys, pluginAbi));
    }
    return keys;
}

// The plugin's "major.minor" when this host can read its descriptor; otherwise why not.
std::string checkedVersion(const sensorsys_plugin_descriptor& offered) {
    if (offered.struct_size < sizeof(std::uint32_t) + 2 * sizeof(std::uint16_t)) {
        throw Refused{"descriptor of " + std::to_string(offered.struct_size) +
                      " bytes is too small to hold a version"};
    }
    const std::string pluginAbi = abiText(offered.abi_major, offered.abi_minor);
    if (offered.abi_major != SENSORSYS_ABI_MAJOR) {
        throw Refused{"ABI major version " + std::to_string(offered.abi_major) +
                          " differs from the agent's " + std::to_string(SENSORSYS_ABI_MAJOR),
                      pluginAbi};
    }
    if (offered.abi_minor > SENSORSYS_ABI_MINOR) {
        throw Refused{"ABI minor version " + std::to_string(offered.abi_minor) +
                          " is newer than the agent's " + std::to_string(SENSORSYS_ABI_MINOR),
                      pluginAbi};
    }
    if (offered.struct_size < SENSORSYS_DESCRIPTOR_V1_SIZE) {
        throw Refused{"descriptor of " + std::to_string(offered.struct_size) +
                          " bytes is smaller than ABI 1.0's " +
                          std::to_string(SENSORSYS_DESCRIPTOR_V1_SIZE),
                      pluginAbi};
    }

    return pluginAbi;
}

}  // namespace

LoadedPlugin::LoadedPlugin(fs::path path, boost::dll::shared_library library,
                           const sensorsys_plugin_descriptor& descriptor,
                           std::optional<std::vector<PluginConfigKey>> config_keys)
    : _path(std::move(path)),
      _library(std::move(library)),
      _descriptor(descriptor),
      _configKeys(std::move(config_keys)) {}

std::string LoadedPlugin::version() const {
    return _descriptor.version ? _descriptor.version : "";
}

std::string LoadedPlugin::description() const {
    return _descriptor.description ? _descriptor.description : "";
}

std::string PluginRefusal::message() const {
    return file.string() + ": " + reason + " (plugin ABI " + pluginAbi.value_or("unknown") +
           ", agent ABI " + PluginLoader::hostAbi() + ")";
}

PluginLoader::PluginLoader(fs::path directory) : _directory(std::move(directory)) {}

std::string PluginLoader::hostAbi() {
    return abiText(SENSORSYS_ABI_MAJOR, SENSORSYS_ABI_MINOR);
}

PluginScan PluginLoader::loadAll() const {
    PluginScan scan;
    std::error_code ec;
    if (!fs::is_directory(_directory, ec)) {
        scan.refused.push_back(
            {_directory, "plugin directory does not exist or is not a folder", std::nullopt});
        return scan;
    }
    if (auto why = writableByOthers(_directory)) {
        scan.refused.push_back({_directory, "plugin directory is " + *why, std::nullopt});
        return scan;
    }

    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(_directory, ec)) {
        if (entry.path().extension() == ".so") files.push_back(entry.path());
    }
    if (ec) {
        scan.refused.push_back(
            {_directory, "cannot list plugin directory: " + ec.message(), std::nullopt});
        return scan;
    }
    std::sort(files.begin(), files.end());

    std::set<std::string> names;
    for (const auto& file : files) {
        try {
            auto plugin = loadFile(file);
            const std::string name = plugin->name();
            if (names.count(name) != 0) {
                const auto first = std::find_if(scan.loaded.begin(), scan.loaded.end(),
                                                [&](const auto& p) { return p->name() == name; });
                scan.refused.push_back(
                    {file,
                     "duplicate plugin name '" + name + "', already loaded from " +
                         (*first)->path().string(),
                     abiText(plugin->descriptor().abi_major, plugin->descriptor().abi_minor)});
                continue;
            }
            names.insert(name);
            scan.loaded.push_back(std::move(plugin));
        } catch (const Refused& refused) {
            scan.refused.push_back({file, refused.reason, refused.pluginAbi});
        }
    }
    return scan;
}

PluginScan PluginLoader::loadOne(const fs::path& file) {
    PluginScan scan;
    try {
        scan.loaded.push_back(loadFile(file));
    } catch (const Refused& refused) {
        scan.refused.push_back({file, refused.reason, refused.pluginAbi});
    }
    return scan;
}

std::shared_ptr<const LoadedPlugin> PluginLoader::loadFile(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw Refused{"not a regular file"};
    if (auto why = writableByOthers(file)) throw Refused{"file is " + *why};

    boost::dll::shared_library library;
    try {
        // rtld_now: an unresolved symbol must fail here, not kill the agent at first call.
        library.load(fs::absolute(file).string(),
                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw Refused{std::string("not a loadable shared object: ") + e.what()};
    }
    if (!library.has(SENSORSYS_ENTRY_SYMBOL)) {
        throw Refused{"no entry symbol '" SENSORSYS_ENTRY_SYMBOL "'"};
    }
    void* symbol = &library.get<char>(SENSORSYS_ENTRY_SYMBOL);
    if (!isFunctionSymbol(symbol)) {
        throw Refused{"entry symbol '" SENSORSYS_ENTRY_SYMBOL "' is not a function"};
    }
    auto entry = reinterpret_cast<sensorsys_entry_fn>(symbol);

    const sensorsys_plugin_descriptor* offered = entry(SENSORSYS_ABI_MAJOR, SENSORSYS_ABI_MINOR);
    if (offered == nullptr) throw Refused{"plugin refused this agent's ABI"};

    const std::string pluginAbi = checkedVersion(*offered);

    // Copy what the plugin provided into a zeroed descriptor of this host's size, so fields
    // appended after the plugin was built read as absent rather than as garbage.
    sensorsys_plugin_descriptor descriptor{};
    std::memcpy(&descriptor, offered,
                std::min<std::size_t>(offered->struct_size, sizeof descriptor));

    const char* missing = descriptor.create == nullptr    ? "create"
                          : descriptor.read == nullptr    ? "read"
                          : descriptor.destroy == nullptr ? "destroy"
                                                          : nullptr;
    if (missing != nullptr) {
        throw Refused{std::string("required function '") + missing + "' is NULL", pluginAbi};
    }
    if (!validName(descriptor.name)) {
        throw Refused{std::string("plugin name '") + (descriptor.name ? descriptor.name : "") +
                          "' is not 1-64 characters of [a-z0-9_]",
                      pluginAbi};
    }
    // Pinned for the life of the process (its handle deliberately never closed): a thread the
    // plugin left running after destroy(), or an abandoned read, must never run on into code
    // that dlclose() unmapped.
    ::dlopen(fs::absolute(file).c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    std::optional<std::vector<PluginConfigKey>> keys;
    if (declaresConfigKeys(*offered) && descriptor.config_keys != nullptr) {
        keys = configKeysOf(descriptor.config_keys, pluginAbi);
    }
    return std::make_shared<const LoadedPlugin>(file, std::move(library), descriptor,
                                                std::move(keys));
}

}  // namespace sensorsys::agent
