#include "parallel_reader.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/Runnable.h>

namespace sensorsys::agent {
namespace {

// What a read task and the waiting reader share; outlives whichever side leaves first.
struct Outcome {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<std::string> json;
};

// Runs one read. Owns itself while it runs, since an abandoned task outlives readAll().
class ReadTask : public Poco::Runnable {
  public:
    ReadTask(std::shared_ptr<SensorInstance> instance, std::shared_ptr<Outcome> outcome)
        : _instance(std::move(instance)), _outcome(std::move(outcome)) {}

    static void start(Poco::ThreadPool& pool, std::shared_ptr<ReadTask> task) {
        task->_self = task;
        try {
            pool.start(*task);
        } catch (...) {
            task->_self.reset();
            throw;
        }
    }

    void run() override {
        std::string json = _instance->read();
        _instance->endRead();
        {
            std::lock_guard lock(_outcome->mutex);
            _outcome->json = std::move(json);
        }
        _outcome->done.notify_one();
        // Last statement: drops the self-reference, possibly destroying this task.
        auto release = std::move(_self);
    }

  private:
    std::shared_ptr<SensorInstance> _instance;
    std::shared_ptr<Outcome> _outcome;
    std::shared_ptr<ReadTask> _self;
};

std::string seconds(std::chrono::milliseconds ms) {
    const auto count = ms.count();
    return count % 1000 == 0 ? std::to_string(count / 1000) + " s" : std::to_string(count) + " ms";
}

}  // namespace

ParallelReader::ParallelReader(Poco::ThreadPool& pool, std::chrono::milliseconds deadline)
    : _pool(pool), _deadline(deadline) {}

std::vector<SensorResult> ParallelReader::readAll(
    const std::vector<std::shared_ptr<SensorInstance>>& instances) {
    const auto until = std::chrono::steady_clock::now() + _deadline;
    std::vector<SensorResult> results;
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (const auto& instance : instances) {
        results.push_back({instance->name(), {}, true});
        auto outcome = std::make_shared<Outcome>();
        if (!instance->tryBeginRead()) {
            outcome->json =
                errorObject("timeout: the previous read of '" + instance->name() + "' (plugin " +
                            instance->plugin().name() + ") has not returned yet; not called again");
        } else {
            try {
                ReadTask::start(_pool, std::make_shared<ReadTask>(instance, outcome));
            } catch (const Poco::Exception& e) {
                instance->endRead();
                outcome->json = errorObject("no thread free to read '" + instance->name() +
                                            "': " + e.displayText());
            }
        }
        outcomes.push_back(std::move(outcome));
    }
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        auto& outcome = *outcomes[i];
        std::unique_lock lock(outcome.mutex);
        if (outcome.done.wait_until(lock, until, [&] { return outcome.json.has_value(); })) {
            results[i].json = std::move(*outcome.json);
        } else {
            results[i].json =
                errorObject("timeout: plugin " + instances[i]->plugin().name() +
                            " did not answer within " + seconds(_deadline) + "; read abandoned");
        }
        results[i].ok = results[i].json.rfind("{\"error\":", 0) != 0;
    }
    return results;
}

}  // namespace sensorsys::agent
