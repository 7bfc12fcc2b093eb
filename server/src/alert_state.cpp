#include "alert_state.hpp"

namespace sensorsys::server {
namespace {

void enter(AlertStatus& s, AlertState state, std::int64_t at) {
    if (s.state == AlertState::Ok) {
        s.episodeMicros = at;
        s.newEpisode = true;
        s.notified = false;
    }
    s.state = state;
    s.sinceMicros = at;
}

Step fire(AlertStatus& s, const Observation& r) {
    enter(s, AlertState::Firing, r.tsMicros);
    if (r.late) return {true, Notice::None};  // told at catch-up: still firing, or a summary
    s.notified = true;
    return {true, Notice::Firing};
}

Step resolve(AlertStatus& s, std::int64_t at) {
    const bool wasFiring = s.state == AlertState::Firing || s.state == AlertState::NoData;
    const bool told = s.notified;
    if (wasFiring && !told) {
        if (s.catchUpCount == 0) s.catchUpStartMicros = s.episodeMicros;
        ++s.catchUpCount;
        s.catchUpEndMicros = at;
    }
    s.state = AlertState::Ok;
    s.sinceMicros = at;
    s.notified = false;
    return {true, wasFiring && told ? Notice::Resolved : Notice::None};
}

}  // namespace

std::string_view alertStateName(AlertState state) {
    switch (state) {
        case AlertState::Ok:
            return "ok";
        case AlertState::Pending:
            return "pending";
        case AlertState::Firing:
            return "firing";
        case AlertState::NoData:
            return "nodata";
    }
    return "ok";
}

std::optional<AlertState> parseAlertState(std::string_view name) {
    for (auto s : {AlertState::Ok, AlertState::Pending, AlertState::Firing, AlertState::NoData}) {
        if (alertStateName(s) == name) return s;
    }
    return std::nullopt;
}

Step applyReading(const AlertRule& rule, AlertStatus& s, const Observation& r) {
    s.newEpisode = false;
    if (rule.kind == RuleKind::NoData) {
        if (s.state != AlertState::NoData) return {};
        return resolve(s, r.tsMicros);
    }
    if (!r.value) return {};
    const double v = *r.value;
    switch (s.state) {
        case AlertState::Ok:
        case AlertState::NoData:
            if (!rule.breached(v)) return {};
            s.value = v;
            if (rule.forDuration.count() == 0) return fire(s, r);
            enter(s, AlertState::Pending, r.tsMicros);
            return {true, Notice::None};
        case AlertState::Pending:
            s.value = v;
            if (!rule.breached(v)) return resolve(s, r.tsMicros);
            if (r.tsMicros - s.sinceMicros >= rule.forDuration.count() * 1000000LL)
                return fire(s, r);
            return {};
        case AlertState::Firing:
            s.value = v;
            if (rule.cleared(v)) return resolve(s, r.tsMicros);
            return {};
    }
    return {};
}

Step applyNoData(AlertStatus& s, std::int64_t nowMicros) {
    s.newEpisode = false;
    if (s.state == AlertState::NoData) return {};
    enter(s, AlertState::NoData, nowMicros);
    s.value.reset();
    s.notified = true;
    return {true, Notice::Firing};
}

CatchUp takeCatchUp(AlertStatus& s) {
    CatchUp c;
    if (s.state == AlertState::Firing && !s.notified) {
        c.firing = true;
        s.notified = true;
    }
    if (s.catchUpCount > 0) {
        c.summary = true;
        c.episodes = s.catchUpCount;
        c.startMicros = s.catchUpStartMicros;
        c.endMicros = s.catchUpEndMicros;
        s.catchUpCount = 0;
        s.catchUpStartMicros = 0;
        s.catchUpEndMicros = 0;
    }
    return c;
}

}  // namespace sensorsys::server
