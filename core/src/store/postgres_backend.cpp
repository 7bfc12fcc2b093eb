#include "store/postgres_backend.hpp"

#include <dlfcn.h>

#include <stdexcept>

#include <boost/dll/runtime_symbol_info.hpp>

namespace sensorsys::agent {

std::filesystem::path postgresModulePath() {
    const std::filesystem::path bin = boost::dll::program_location().string();
    return (bin.parent_path() / SENSORSYS_STORE_MODULE_FROM_BIN / "postgresql.so")
        .lexically_normal();
}

PostgresBackend loadPostgresBackend() {
    const auto path = postgresModulePath();
    const auto fail = [&](const std::string& why) {
        return std::runtime_error("the PostgreSQL store module " + path.string() + " " + why +
                                  " (store.connector=postgresql and --import-seed need it; it "
                                  "ships with sensorsys-agent)");
    };
    if (!std::filesystem::exists(path)) throw fail("is missing");
    // dlopen rather than Boost.DLL (the sensor plugins' loader): its dlerror() text says why a
    // load failed. The handle is closed on return; the module (-z nodelete) stays mapped.
    const std::unique_ptr<void, int (*)(void*)> module(
        ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL), &::dlclose);
    if (!module) throw fail(std::string("cannot be loaded: ") + ::dlerror());
    using Entry = const PostgresBackend* (*)();
    const auto entry = reinterpret_cast<Entry>(::dlsym(module.get(), "sensorsys_postgres_backend"));
    if (!entry) throw fail("lacks the symbol sensorsys_postgres_backend");
    return *entry();
}

}  // namespace sensorsys::agent
