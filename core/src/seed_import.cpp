#include "seed_import.hpp"

#include <cstdint>

#include <Poco/SHA1Engine.h>

#include <sensorsys/common/uuid_v7.hpp>
#include "store/postgres_backend.hpp"

namespace sensorsys::agent {

std::string seedReadingId(std::int64_t ts_utc_millis, const std::string& row_identity) {
    Poco::SHA1Engine sha1;
    sha1.update(row_identity);
    const auto& digest = sha1.digest();
    std::uint8_t b[16];
    const auto millis = static_cast<std::uint64_t>(ts_utc_millis);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
    for (int i = 6; i < 16; ++i) b[i] = digest[static_cast<std::size_t>(i)];
    markVersion7(b);
    return formatUuid(b);
}

ImportResult importSeed(const std::string& seed_connection, ReadingStore& store,
                        Poco::Logger& logger) {
    return loadPostgresBackend().importSeed(seed_connection, store, logger);
}

}  // namespace sensorsys::agent
