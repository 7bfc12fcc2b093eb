// Readings taken before any time source answered in this boot are stored held (never sent);
// this dates and releases them: a reading of this boot gets ts_utc = its CLOCK_BOOTTIME plus
// the source's offset, ts_local from it and a new reading_id made from that time (so id and
// time are final before the reading first leaves the device), marked "corrected" when the wall
// clock had been off by more than agent.clock_max_error; a reading of an earlier boot that
// never learned the time keeps its wall time and is marked "unsynced".
// Thread-safety: release() from one thread at a time (the sync thread).
#pragma once

#include <cstddef>

#include <Poco/Logger.h>

#include <sensorsys/common/uuid_v7.hpp>
#include "store/reading_store.hpp"
#include "time_source.hpp"

namespace sensorsys::agent {

class HeldReadings {
  public:
    HeldReadings(ReadingStore& store, TimeSource& time, Poco::Logger& logger);

    // Releases every held reading that can be dated now; returns how many. Throws what the
    // store throws (the readings stay held and are tried again).
    std::size_t release();

  private:
    // nullopt: it must wait (this boot, no source yet).
    std::optional<Release> releaseOf(const HeldReading& row, const std::string& boot_id);

    ReadingStore& _store;
    TimeSource& _time;
    Poco::Logger& _logger;
    UuidV7Generator _uuids{std::chrono::milliseconds(500)};
};

}  // namespace sensorsys::agent
