// The API's routes: one entry per route. Adding a route is one entry here plus its handler.
#include "api_service.hpp"
#include "reading_validation.hpp"
#include "route_table.hpp"

namespace sensorsys::server {

const RouteTable& apiRoutes() {
    using R = const ApiRequest&;
    using P = const Principal&;
    static const RouteTable routes{
        {"POST", "/readings", Route::ReadingsCreate, Access::Write,
         [](ApiService& s, R r, P p) { return s.createReading(r, p); }, &readReadingBody},
        {"POST", "/readings/bulk", Route::ReadingsBulk, Access::Write,
         [](ApiService& s, R r, P p) { return s.createBulk(r, p); }, &readBulkBody},
        {"GET", "/readings", Route::ReadingsQuery, Access::Read,
         [](ApiService& s, R r, P) { return s.queryReadings(r); }, &readRangeQuery},
        {"GET", "/readings/latest", Route::ReadingsLatest, Access::Read,
         [](ApiService& s, R r, P) { return s.latestReading(r); }, &readLatestQuery},
        {"GET", "/readings/export", Route::ReadingsExport, Access::Read,
         [](ApiService& s, R r, P) { return s.exportReadings(r); }, &readExportQuery},
        {"GET", "/readings/series", Route::ReadingsSeries, Access::Read,
         [](ApiService& s, R r, P) { return s.readingsSeries(r); }, &readSeriesQuery},
        {"GET", "/readings/stream", Route::ReadingsStream, Access::Read,
         [](ApiService& s, R r, P) { return s.live(r); }, &readEventStream},
        {"GET", "/live", Route::Live, Access::ReadOrFirstMessage,
         [](ApiService& s, R r, P) { return s.live(r); }, &readLiveSocket},
        {"GET", "/devices", Route::Devices, Access::Read,
         [](ApiService& s, R, P) { return s.devices(); }},
        {"GET", "/devices/{device_id}/metrics", Route::DeviceMetrics, Access::Read,
         [](ApiService& s, R r, P) { return s.deviceMetrics(r); }, &readDeviceMetricsQuery},
        {"GET", "/alerts", Route::Alerts, Access::Read,
         [](ApiService& s, R, P) { return s.alerts(); }},
        {"GET", "/alerts/history", Route::AlertsHistory, Access::Read,
         [](ApiService& s, R r, P) { return s.alertHistory(r); }, &readAlertHistoryQuery},
        {"POST", "/alerts/{id}/ack", Route::AlertsAck, Access::Admin,
         [](ApiService& s, R r, P) { return s.ackAlert(r); }, &readAlertId},
        {"GET", "/auth/check", Route::AuthCheck, Access::AnyToken,
         [](ApiService& s, R, P p) { return s.authCheck(p); }},
        {"GET", "/health", Route::Health, Access::Open,
         [](ApiService& s, R, P) { return s.health(); }},
        {"GET", "/metrics", Route::Metrics, Access::Open,
         [](ApiService& s, R, P) { return s.metricsText(); }},
        {"GET", "/tokens", Route::TokensList, Access::Admin,
         [](ApiService& s, R, P) { return s.listTokens(); }},
        {"POST", "/tokens", Route::TokensCreate, Access::Admin,
         [](ApiService& s, R r, P) { return s.createToken(r); }, &readTokenCreateBody},
        {"DELETE", "/tokens/{id}", Route::TokensRevoke, Access::Admin,
         [](ApiService& s, R r, P) { return s.revokeToken(r); }, &readTokenId},
        // The dashboard: its files are public (the page signs in itself); each path is listed
        // so an unknown path stays a 404 of the API, never a file lookup.
        {"GET", "/", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.staticFile(r); }, &readStaticQuery},
        {"GET", "/index.html", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.staticFile(r); }, &readStaticQuery},
        {"GET", "/style.css", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.staticFile(r); }, &readStaticQuery},
        {"GET", "/favicon.svg", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.staticFile(r); }, &readStaticQuery},
        {"GET", "/js/{file}", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.staticFile(r); }, &readStaticQuery},
        {"GET", "/dashboard.json", Route::Dashboard, Access::Open,
         [](ApiService& s, R, P) { return s.dashboardSettings(); }},
        {"GET", "/vendor/chart.js", Route::Dashboard, Access::Open,
         [](ApiService& s, R r, P) { return s.chartJs(r); }, &readStaticQuery},
    };
    return routes;
}

}  // namespace sensorsys::server
