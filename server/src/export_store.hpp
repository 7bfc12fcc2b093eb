// GET /readings/export: the readings of a range written as CSV (RFC 4180, CRLF) or NDJSON, page
// by page (keyset on ts_local, id), so the server holds one page whatever the range.
// Thread-safe (each page leases its own connection).
#pragma once

#include "api_request.hpp"
#include "read_routing.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace sensorsys::server {

// "ts_utc,device_id,<metric>...\r\n", or "ts_utc,device_id,payload\r\n" without metrics.
std::string csvHeader(const std::vector<std::string>& metrics);
// field quoted as RFC 4180 asks when it holds a comma, quote, CR or LF.
std::string csvField(const std::string& field);
// "sensorsys-readings-20261127T000000Z-20261128T000000Z.csv" (or .ndjson).
std::string exportFileName(const ExportQuery& query);

class ExportStore {
  public:
    // Every page is a read: on the replica when there is one.
    ExportStore(ReadRouting& reads, int pageRows, std::int64_t maxRows)
        : _reads(reads), _pageRows(pageRows), _maxRows(maxRows) {}

    // Writes the rows after the CSV header; false when the database failed part-way.
    bool write(const ExportQuery& query, std::ostream& out);

  private:
    ReadRouting& _reads;
    const int _pageRows;
    const std::int64_t _maxRows;  // 0: no limit
};

}  // namespace sensorsys::server
