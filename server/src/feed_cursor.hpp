// A position in the change feed of sensor_project.readings, exact although ids are not
// commit-ordered: every id up to `settled` has been delivered or can never appear, and the ids
// above it that were delivered are listed (as ranges). Its text form is the `cursor` of the live
// routes: "<settled>" or "<settled>~<a>-<b>,<c>,..." (inclusive ranges, ascending). A value
// type; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensorsys::server {

class FeedCursor {
  public:
    FeedCursor() = default;
    explicit FeedCursor(std::int64_t settled) : _settled(settled) {}

    // Parses the text form; nothing when it is malformed (or its ranges overlap, are unordered
    // or lie at or below settled).
    static std::optional<FeedCursor> parse(std::string_view text);
    std::string text() const;
    // The delivered ids above settled as a PostgreSQL int8multirange literal ("{}" when none).
    std::string multirange() const;

    std::int64_t settled() const { return _settled; }
    // The largest id delivered (settled when none above it).
    std::int64_t highest() const;
    bool delivered(std::int64_t id) const;
    // Records id as delivered.
    void add(std::int64_t id);
    // Every id up to upTo is delivered or will never appear.
    void settle(std::int64_t upTo);
    std::size_t ranges() const { return _above.size(); }

    friend bool operator==(const FeedCursor&, const FeedCursor&) = default;

  private:
    std::int64_t _settled = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> _above;  // inclusive, ascending, apart
};

}  // namespace sensorsys::server
