#include "parallel_reader.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/Runnable.h>

namespace sensorsys::agent {

// What a call and the waiting side share; outlives whichever side leaves first.
struct CallOutcome {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<std::string> json;
};

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kGiveUpPoll = std::chrono::milliseconds(50);

// Runs one call. Owns itself while it runs, since an abandoned task outlives its waiter.
class CallTask : public Poco::Runnable {
  public:
    using Call = std::string (*)(SensorInstance&);

    CallTask(std::shared_ptr<SensorInstance> instance, std::shared_ptr<CallOutcome> outcome,
             Call call)
        : _instance(std::move(instance)), _outcome(std::move(outcome)), _call(call) {}

    static void start(Poco::ThreadPool& pool, std::shared_ptr<CallTask> task) {
        task->_self = task;
        try {
            pool.start(*task);
        } catch (...) {
            task->_self.reset();
            throw;
        }
    }

    void run() override {
        std::string json = _call(*_instance);
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
    std::shared_ptr<CallOutcome> _outcome;
    Call _call;
    std::shared_ptr<CallTask> _self;
};

std::string seconds(std::chrono::milliseconds ms) {
    const auto count = ms.count();
    return count % 1000 == 0 ? std::to_string(count / 1000) + " s" : std::to_string(count) + " ms";
}

std::string stillRunning(const SensorInstance& instance) {
    const std::string who = "'" + instance.name() + "' (plugin " + instance.plugin().name() + ")";
    if (instance.creating()) {
        return errorObject("timeout: create of " + who + " has not returned yet; not called again");
    }
    return errorObject("timeout: the previous read of " + who +
                       " has not returned yet; not called again");
}

}  // namespace

ParallelReader::ParallelReader(Poco::ThreadPool& pool, std::chrono::milliseconds deadline)
    : _pool(pool), _deadline(deadline) {}

void ParallelReader::ensureCapacity(Poco::ThreadPool& pool, std::size_t instances) {
    const int wanted = static_cast<int>(instances) + kPoolMargin;
    if (pool.capacity() < wanted) pool.addCapacity(wanted - pool.capacity());
}

ParallelReader::Batch ParallelReader::start(
    const std::vector<std::shared_ptr<SensorInstance>>& instances, Call call, bool creates) {
    Batch batch;
    batch._instances = instances;
    batch._creates = creates;
    for (const auto& instance : instances) {
        auto outcome = std::make_shared<CallOutcome>();
        if (!instance->tryBeginRead()) {
            outcome->json = stillRunning(*instance);
        } else {
            try {
                CallTask::start(_pool, std::make_shared<CallTask>(instance, outcome, call));
            } catch (const Poco::Exception& e) {
                instance->endRead();
                outcome->json = errorObject("no thread free to call '" + instance->name() +
                                            "': " + e.displayText());
            }
        }
        batch._outcomes.push_back(std::move(outcome));
    }
    return batch;
}

ParallelReader::Batch ParallelReader::startCreates(
    const std::vector<std::shared_ptr<SensorInstance>>& instances) {
    return start(
        instances, [](SensorInstance& i) { return i.createKeepingRefusal(); }, true);
}

std::vector<SensorResult> ParallelReader::finish(Batch& batch, Clock::time_point until,
                                                 const std::function<bool()>& give_up) const {
    std::vector<SensorResult> results;
    bool gave_up = false;
    for (std::size_t i = 0; i < batch._outcomes.size(); ++i) {
        const auto& instance = *batch._instances[i];
        auto& outcome = *batch._outcomes[i];
        results.push_back({instance.name(), {}, true});
        std::unique_lock lock(outcome.mutex);
        const auto ready = [&] { return outcome.json.has_value(); };
        while (!ready() && !gave_up && Clock::now() < until) {
            const auto slice = give_up ? std::min(until, Clock::now() + kGiveUpPoll) : until;
            outcome.done.wait_until(lock, slice, ready);
            gave_up = !ready() && give_up && give_up();
        }
        if (ready()) {
            results[i].json = std::move(*outcome.json);
        } else if (batch._creates) {
            results[i].json = errorObject("timeout: create of '" + instance.name() + "' (plugin " +
                                          instance.plugin().name() + ") did not return in time");
        } else {
            results[i].json =
                errorObject("timeout: plugin " + instance.plugin().name() +
                            " did not answer within " + seconds(_deadline) + "; read abandoned");
        }
        results[i].ok = results[i].json.empty() || results[i].json.rfind("{\"error\":", 0) != 0;
    }
    return results;
}

std::vector<SensorResult> ParallelReader::readAll(
    const std::vector<std::shared_ptr<SensorInstance>>& instances) {
    const auto until = Clock::now() + _deadline;
    Batch batch = start(
        instances, [](SensorInstance& i) { return i.read(); }, false);
    return finish(batch, until);
}

}  // namespace sensorsys::agent
