// A background thread that runs a round at once and then every interval until stop(), which
// wakes it at once and waits for the round in progress. The alert evaluator and sender run on
// it. start()/stop() from one thread; stopping() from the round.
#pragma once

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sensorsys::server {

class PeriodicThread {
  public:
    PeriodicThread() = default;
    ~PeriodicThread() { stop(); }
    PeriodicThread(const PeriodicThread&) = delete;
    PeriodicThread& operator=(const PeriodicThread&) = delete;

    void start(std::function<void()> round, std::chrono::milliseconds interval) {
        if (_thread.joinable()) return;
        _stopping = false;
        _thread = std::thread([this, round = std::move(round), interval] {
            do {
                round();
            } while (waitFor(interval));
        });
    }

    void stop() {
        {
            std::lock_guard lock(_mutex);
            _stopping = true;
        }
        _wake.notify_all();
        if (_thread.joinable()) _thread.join();
    }

    // Waits up to pause; false when stop() was called (at once if it already was).
    bool waitFor(std::chrono::milliseconds pause) {
        std::unique_lock lock(_mutex);
        _wake.wait_for(lock, pause, [this] { return _stopping; });
        return !_stopping;
    }

  private:
    std::mutex _mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    std::thread _thread;
};

// Runs a round's work; a failure is logged as a warning naming `what` (the round is retried
// next time). Returns whether it succeeded, so the caller can drop a connection that failed.
template <class Work>
bool guardedRound(Poco::Logger& logger, const char* what, Work&& work) {
    try {
        work();
        return true;
    } catch (const Poco::Exception& e) {
        logger.warning("%s: %s (retrying)", std::string(what), e.displayText());
    } catch (const std::exception& e) {
        logger.warning("%s: %s (retrying)", std::string(what), std::string(e.what()));
    }
    return false;
}

}  // namespace sensorsys::server
