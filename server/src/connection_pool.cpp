#include "connection_pool.hpp"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Exception.h>

#include <memory>

namespace sensorsys::server {

using namespace Poco::Data::Keywords;

void executePrepared(Poco::Data::Statement& statement) {
    try {
        statement.execute();
    } catch (...) {
        // A copy shares the implementation; never destroying the copy keeps it alive.
        [[maybe_unused]] const auto* kept =
            std::make_unique<Poco::Data::Statement>(statement).release();
        throw;
    }
}

ConnectionPool::ConnectionPool(std::string connectionString, int maxSize,
                               std::chrono::milliseconds wait, int connectTimeoutSeconds)
    : _connectionString(std::move(connectionString)),
      _maxSize(maxSize),
      _wait(wait),
      _connectTimeoutSeconds(connectTimeoutSeconds) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
    if (_connection) {
        const bool close = _broken || _connection->retiring();
        _pool->giveBack(std::move(_connection), close);
    }
}

Poco::Data::Session ConnectionPool::connect(const std::string& connectionString,
                                            int connectTimeoutSeconds) {
    try {
        Poco::Data::Session session("PostgreSQL", connectionString,
                                    static_cast<std::size_t>(connectTimeoutSeconds));
        // Poco splits the connection string on spaces, so options='-c TimeZone=UTC' cannot be
        // passed there (docs/stack-notes.md): set the session time zone explicitly.
        session << "SET TIME ZONE 'UTC'", now;
        session << "SET client_min_messages = warning", now;  // no NOTICEs on stderr
        // Every query of ours is short; JIT compiling one costs more than it saves. The series
        // query's many CTEs crossed jit_above_cost and spent 1.6 s of a 1.7 s answer compiling
        // 205 functions (auto_explain, 24 h x 4 metrics at 5 min).
        session << "SET jit = off", now;
        return session;
    } catch (const Poco::Exception& e) {
        throw DatabaseUnavailable("cannot connect to PostgreSQL: " + e.displayText());
    }
}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(_mutex);
    const auto deadline = std::chrono::steady_clock::now() + _wait;
    ++_waiting;
    while (_idle.empty() && _open >= _maxSize) {
        if (_available.wait_until(lock, deadline) == std::cv_status::timeout && _idle.empty() &&
            _open >= _maxSize) {
            --_waiting;
            throw PoolTimeout("no database connection became free within " +
                              std::to_string(_wait.count()) + " ms");
        }
    }
    --_waiting;
    if (!_idle.empty()) {
        auto connection = std::move(_idle.back());
        _idle.pop_back();
        return Lease(*this, std::move(connection));
    }
    ++_open;
    lock.unlock();
    try {
        auto connection =
            std::make_unique<Connection>(connect(_connectionString, _connectTimeoutSeconds));
        return Lease(*this, std::move(connection));
    } catch (...) {
        lock.lock();
        --_open;
        lock.unlock();
        _available.notify_one();
        throw;
    }
}

void ConnectionPool::giveBack(std::unique_ptr<Connection> connection, bool broken) {
    std::unique_ptr<Connection> toClose;
    {
        std::lock_guard lock(_mutex);
        if (broken) {
            --_open;
            toClose = std::move(connection);
        } else {
            _idle.push_back(std::move(connection));
        }
    }
    _available.notify_one();
    if (toClose) {
        try {
            toClose.reset();
        } catch (...) {
            // Closing a dead connection may fail; there is nothing left to release.
        }
    }
}

void ConnectionPool::discardIdle() {
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard lock(_mutex);
        closing.swap(_idle);
        _open -= static_cast<int>(closing.size());
    }
    _available.notify_all();
    for (auto& c : closing) {
        try {
            c.reset();
        } catch (...) {
            // as in giveBack
        }
    }
}

bool ConnectionPool::alive(Connection& connection) {
    try {
        int one = 0;
        connection.session() << "SELECT 1", into(one), now;
        return one == 1;
    } catch (...) {
        return false;
    }
}

PoolStats ConnectionPool::stats() const {
    std::lock_guard lock(_mutex);
    PoolStats s;
    s.size = _open;
    s.inUse = _open - static_cast<int>(_idle.size());
    s.waiting = _waiting;
    s.max = _maxSize;
    return s;
}

}  // namespace sensorsys::server
