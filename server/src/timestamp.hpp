// RFC 3339 timestamps as the API accepts and returns them: an instant in microseconds since
// the Unix epoch plus the UTC offset the writer used. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server {

struct Timestamp {
    std::int64_t epochMicros = 0;  // the instant (UTC)
    int offsetSeconds = 0;         // the writer's UTC offset, kept to return ts_local as sent
};

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM|+HHMM]" ('t', 'z' and a space as
// separator accepted; no offset means UTC, as the seed did). Fractions beyond microseconds are
// truncated. Returns nothing for anything else, including impossible dates.
std::optional<Timestamp> parseTimestamp(std::string_view text);

// "2026-11-27T06:00:00.123456+01:00" (fraction omitted when zero, as Python's isoformat does,
// so seed clients see the same text); the offset is taken from ts.
std::string formatTimestamp(const Timestamp& ts);
// The same, appended to out (no temporary string per timestamp in a long answer).
void appendTimestamp(std::string& out, const Timestamp& ts);

// "2026-11-27T05:00:00.123456Z": the canonical UTC form used as an SQL parameter and in cursors.
std::string formatUtcForSql(std::int64_t epochMicros);

// How far a reading's ts_local may be from its ts_utc: the largest UTC offset in use, for a
// client that writes its wall time as UTC. Further is refused (422); reads by ts_local prune
// partitions (by ts_utc) with bounds this much wider (docs/scaling.md).
inline constexpr std::int64_t kMaxLocalSkewMicros = 14LL * 3600 * 1'000'000;

}  // namespace sensorsys::server
