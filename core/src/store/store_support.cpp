#include "store/store_support.hpp"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <stdexcept>

namespace sensorsys::agent::store_support {

void validateReading(const StoredReading& reading) {
    Poco::JSON::Object::Ptr object;
    try {
        Poco::JSON::Parser parser;
        object = parser.parse(reading.json).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        throw std::invalid_argument("reading is not a JSON object: " + e.displayText());
    }
    if (!object) throw std::invalid_argument("reading is not a JSON object");
    for (const char* key : {"device_id", "reading_id", "ts_utc", "ts_local"}) {
        if (!object->has(key) || !object->get(key).isString()) {
            throw std::invalid_argument(std::string("reading has no string \"") + key + "\"");
        }
    }
    if (!object->isObject("payload")) {
        throw std::invalid_argument("reading has no \"payload\" object");
    }
    const std::string id = object->getValue<std::string>("reading_id");
    if (!reading.readingId.empty() && reading.readingId != id) {
        throw std::invalid_argument("reading_id " + reading.readingId +
                                    " differs from the JSON's " + id);
    }
}

namespace {
std::string joinIds(const std::vector<std::int64_t>& ids, char open, char close) {
    std::string out(1, open);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(ids[i]);
    }
    out += close;
    return out;
}
}  // namespace

std::vector<StoredReading> fetchReadings(Poco::Data::Session& session, const std::string& query,
                                         std::int64_t after_id, std::size_t limit) {
    using namespace Poco::Data::Keywords;
    std::vector<Poco::Int64> ids;
    std::vector<std::string> readingIds;
    std::vector<std::string> jsons;
    Poco::Int64 after = after_id;
    Poco::Int64 n = static_cast<Poco::Int64>(limit);
    session << query, into(ids), into(readingIds), into(jsons), use(after), use(n), now;
    std::vector<StoredReading> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        out.push_back({ids[i], std::move(readingIds[i]), std::move(jsons[i])});
    }
    return out;
}

std::vector<HeldReading> fetchHeld(Poco::Data::Session& session, const std::string& query,
                                   std::int64_t after_id, std::size_t limit) {
    using namespace Poco::Data::Keywords;
    std::vector<Poco::Int64> ids;
    std::vector<std::string> readingIds;
    std::vector<std::string> bootIds;
    std::vector<Poco::Int64> boottimes;
    std::vector<std::string> tsUtcs;
    Poco::Int64 after = after_id;
    Poco::Int64 n = static_cast<Poco::Int64>(limit);
    session << query, into(ids), into(readingIds), into(bootIds), into(boottimes), into(tsUtcs),
        use(after), use(n), now;
    std::vector<HeldReading> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        out.push_back({ids[i], std::move(readingIds[i]), std::move(bootIds[i]), boottimes[i],
                       std::move(tsUtcs[i])});
    }
    return out;
}

void applyRelease(Poco::Data::Session& session, const std::string& update,
                  const std::vector<Release>& rows) {
    using namespace Poco::Data::Keywords;
    inTransaction(session, [&] {
        for (const auto& row : rows) {
            std::string readingId = row.readingId;
            std::string tsUtc = row.tsUtc;
            std::string tsLocal = row.tsLocal;
            std::string quality = row.tsQuality;
            Poco::Int64 id = row.id;
            session << update, use(readingId), use(tsUtc), use(tsLocal), use(quality), use(id), now;
        }
    });
}

std::string idsAsJsonArray(const std::vector<std::int64_t>& ids) {
    return joinIds(ids, '[', ']');
}
std::string idsAsPgArray(const std::vector<std::int64_t>& ids) {
    return joinIds(ids, '{', '}');
}

}  // namespace sensorsys::agent::store_support
