// Reads a set of sensor instances in parallel on a Poco::ThreadPool, each within one common
// deadline. A read past the deadline is abandoned: its thread finishes on its own, the instance
// reports "timeout: ..." and is not called again until that read returns. Thread-safety: one
// readAll() at a time per ParallelReader.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Poco/ThreadPool.h>

#include "sensor_instance.hpp"

namespace sensorsys::agent {

// One instance's contribution to a reading: its name and its JSON object text.
struct SensorResult {
    std::string name;
    std::string json;
    bool ok = true;  // false when json is an {"error": ...} object
};

class ParallelReader {
  public:
    ParallelReader(Poco::ThreadPool& pool, std::chrono::milliseconds deadline);

    // Returns one result per instance, in the order given; returns by the deadline even when
    // reads hang.
    std::vector<SensorResult> readAll(
        const std::vector<std::shared_ptr<SensorInstance>>& instances);

    std::chrono::milliseconds deadline() const { return _deadline; }

  private:
    Poco::ThreadPool& _pool;
    std::chrono::milliseconds _deadline;
};

}  // namespace sensorsys::agent
