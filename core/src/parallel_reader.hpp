// Calls a set of sensor instances (create or read) in parallel on a Poco::ThreadPool, each
// within one common deadline. A call past the deadline is abandoned: its thread finishes on
// its own, the instance reports "timeout: ..." and is not called again until that call
// returns. Each instance holds at most one pool thread, so a pool of instances + a margin
// threads never starves a healthy sensor however many others hang (see ensureCapacity).
// Thread-safety: any thread may use a ParallelReader; a Batch belongs to one thread.
#pragma once

#include <chrono>
#include <functional>
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

struct CallOutcome;

class ParallelReader {
  public:
    // Threads the pool keeps beyond one per instance, for threads on their way back to it.
    static constexpr int kPoolMargin = 4;

    ParallelReader(Poco::ThreadPool& pool, std::chrono::milliseconds deadline);

    // Grows the pool to `instances` + kPoolMargin threads when it is smaller.
    static void ensureCapacity(Poco::ThreadPool& pool, std::size_t instances);

    // Returns one result per instance, in the order given; returns by the deadline even when
    // reads hang.
    std::vector<SensorResult> readAll(
        const std::vector<std::shared_ptr<SensorInstance>>& instances);

    // Calls started by startCreates(), collected by finish().
    class Batch {
      public:
        bool empty() const { return _instances.empty(); }

      private:
        friend class ParallelReader;
        std::vector<std::shared_ptr<SensorInstance>> _instances;
        std::vector<std::shared_ptr<CallOutcome>> _outcomes;
        bool _creates = false;
    };

    // Starts each instance's create on the pool (createKeepingRefusal) and returns at once.
    Batch startCreates(const std::vector<std::shared_ptr<SensorInstance>>& instances);

    // Waits for the calls of `batch` until `until`, or until `give_up` (polled every 50 ms)
    // returns true; a call still running then gets a "timeout: ..." result.
    std::vector<SensorResult> finish(Batch& batch, std::chrono::steady_clock::time_point until,
                                     const std::function<bool()>& give_up = {}) const;

    std::chrono::milliseconds deadline() const { return _deadline; }

  private:
    using Call = std::string (*)(SensorInstance&);
    Batch start(const std::vector<std::shared_ptr<SensorInstance>>& instances, Call call,
                bool creates);

    Poco::ThreadPool& _pool;
    std::chrono::milliseconds _deadline;
};

}  // namespace sensorsys::agent
