// The PostgreSQL half of --import-seed (see seed_import.hpp), built into the PostgreSQL store
// module so an agent on SQLite never loads libpq.
#include "seed_import.hpp"

#include <chrono>
#include <regex>
#include <stdexcept>
#include <vector>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "reading.hpp"

namespace sensorsys::agent {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;

constexpr int kChunk = 1000;

}  // namespace

ImportResult importSeedFromPostgres(const std::string& seed_connection, ReadingStore& store,
                                    Poco::Logger& logger) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    ImportResult result;
    try {
        Poco::Data::Session session("PostgreSQL", seed_connection);
        session << "SET TIME ZONE 'UTC'", now;
        std::int64_t after = 0;
        for (;;) {
            // The reading JSON is built in SQL: the seed's ts_local kept only the instant, so
            // it comes back in UTC, as the seed's own server returned it.
            std::vector<std::int64_t> ids;
            std::vector<std::int64_t> millis;
            std::vector<std::string> texts;
            session << "SELECT id, (extract(epoch FROM ts_utc) * 1000)::bigint, "
                       "json_build_object('device_id', device_id, "
                       "'ts_utc', to_char(ts_utc, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                       "'ts_local', to_char(ts_local, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), "
                       "'payload', payload)::text "
                       "FROM sensor_project.readings WHERE is_synced IS NOT TRUE AND id > $1 "
                       "ORDER BY id LIMIT $2",
                use(after), Poco::Data::Keywords::bind(kChunk), into(ids), into(millis),
                into(texts), now;
            if (ids.empty()) break;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                StoredReading reading;
                reading.readingId =
                    seedReadingId(millis[i], std::to_string(ids[i]) + "|" + texts[i]);
                // {"device_id": ...} -> {"reading_id": "...", "device_id": ...}
                reading.json =
                    "{\"reading_id\": \"" + reading.readingId + "\", " + texts[i].substr(1);
                store.add(reading);
                const std::chrono::system_clock::time_point taken{
                    std::chrono::milliseconds(millis[i])};
                if (result.imported == 0) result.firstTsUtc = formatUtc(taken);
                result.lastTsUtc = formatUtc(taken);
                ++result.imported;
            }
            // Only after our store committed them: a seed agent still running must not send
            // them too. A crash in between is harmless: re-importing yields the same ids.
            std::string list;
            for (const auto id : ids) {
                if (!list.empty()) list += ',';
                list += std::to_string(id);
            }
            session << "UPDATE sensor_project.readings SET is_synced = true WHERE id IN (" + list +
                           ")",
                now;
            after = ids.back();
            logger.information("import-seed: " + std::to_string(result.imported) +
                               " reading(s) copied so far");
        }
    } catch (const Poco::Exception& e) {
        // Name the database, never its password.
        const std::string where = std::regex_replace(
            seed_connection, std::regex(R"(password=('[^']*'|\S+))"), "password=***");
        throw std::runtime_error("cannot import from the seed database (" + where +
                                 "): " + e.displayText());
    }
    return result;
}

}  // namespace sensorsys::agent
