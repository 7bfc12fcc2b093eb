// The state machine of one (rule, device): OK -> PENDING (`for`) -> FIRING -> OK, and NODATA,
// driven by readings in ts_utc order and by the server's receive clock. Decides what is
// recorded and what is owed to receivers; late readings (a backlog) defer the page into a
// catch-up summary. Pure functions over a value; thread-safe.
#pragma once

#include "alert_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server {

enum class AlertState { Ok, Pending, Firing, NoData };

std::string_view alertStateName(AlertState state);  // "ok", "pending", "firing", "nodata"
std::optional<AlertState> parseAlertState(std::string_view name);

struct AlertStatus {
    AlertState state = AlertState::Ok;
    std::optional<double> value;
    std::int64_t sinceMicros = 0;    // when the current state began (reading time)
    std::int64_t episodeMicros = 0;  // when the current episode (PENDING or later) began
    bool notified = false;           // the episode's firing was sent (so its end is sent too)
    bool newEpisode = false;         // set by a step that began an episode (acks are cleared)
    // Episodes that fired and ended on late readings, not yet summarised.
    int catchUpCount = 0;
    std::int64_t catchUpStartMicros = 0;
    std::int64_t catchUpEndMicros = 0;
};

// One evaluated reading of a rule's device.
struct Observation {
    std::int64_t tsMicros = 0;
    std::optional<double> value;  // none: the metric is missing or the sensor reported an error
    bool late = false;            // received more than alerts.late_after after ts_utc
};

// What a step owes the receivers.
enum class Notice { None, Firing, Resolved };

struct Step {
    bool transition = false;  // the state changed: a history row
    Notice notice = Notice::None;
};

// A reading of the rule's device. No value: neither fires nor resolves (NoData rules resolve
// on any reading).
Step applyReading(const AlertRule& rule, AlertStatus& status, const Observation& reading);
// No reading received for the rule's no_data duration: OK -> NODATA (fires).
Step applyNoData(AlertStatus& status, std::int64_t nowMicros);

// What the device's catch-up owes: a firing page for an episode still firing that was not
// sent, and one summary of the episodes that were over before anyone was told.
struct CatchUp {
    bool firing = false;
    bool summary = false;
    int episodes = 0;
    std::int64_t startMicros = 0;
    std::int64_t endMicros = 0;
};
CatchUp takeCatchUp(AlertStatus& status);

}  // namespace sensorsys::server
