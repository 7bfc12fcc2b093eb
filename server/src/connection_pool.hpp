// A bounded pool of PostgreSQL sessions that waits (up to a deadline) for a free connection
// instead of failing at once, and keeps each connection's prepared statements with it.
// Thread-safe.
#pragma once

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

namespace sensorsys::server {

// PostgreSQL cannot be reached, or a connection broke: the caller answers 503.
class DatabaseUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// No connection became free within the pool's wait: the caller answers 503 + Retry-After.
class PoolTimeout : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Base of per-connection statement sets (one per store), built once per connection.
class PreparedStatements {
  public:
    virtual ~PreparedStatements() = default;
};

// One PostgreSQL session (TimeZone UTC) and the statements prepared on it. Used by one thread
// at a time (the lease holder).
class Connection {
  public:
    explicit Connection(Poco::Data::Session session) : _session(std::move(session)) {}

    Poco::Data::Session& session() { return _session; }

    // The statement set T of this connection, built (compiled on the server) on first use.
    template <class T>
    T& statements() {
        auto& slot = _statements[std::type_index(typeid(T))];
        if (!slot) slot = std::make_unique<T>(_session);
        return static_cast<T&>(*slot);
    }

    // Closes the connection when its lease ends instead of keeping it for reuse: libpq's
    // buffers grow to the biggest row or parameter the connection ever carried and never
    // shrink, and POCO keeps a statement's last result until it runs again, so one reading of
    // 10 MB would stay resident per connection for its life.
    void retire() { _retire = true; }
    bool retiring() const { return _retire; }

  private:
    Poco::Data::Session _session;  // declared first: destroyed after its statements
    std::unordered_map<std::type_index, std::unique_ptr<PreparedStatements>> _statements;
    bool _retire = false;
};

// Executes a statement kept prepared on its connection (Connection::statements). POCO 1.11's
// PostgreSQL connector frees a statement's previous result when execute() starts but keeps the
// pointer; when that execution then fails (PostgreSQL restarted, say), destroying or running the
// statement again frees the result a second time - a double free that crashed the server on the
// first write after every PostgreSQL restart. So a statement whose execution failed is never
// released: its implementation (with its last bound parameters) is leaked on purpose. That
// happens once per broken connection (ConnectionPool::run closes a connection after any
// failure), not per request.
void executePrepared(Poco::Data::Statement& statement);

struct PoolStats {
    int size = 0;     // connections open
    int inUse = 0;    // leased now
    int waiting = 0;  // requests waiting for a connection
    int max = 0;
};

class ConnectionPool {
  public:
    ConnectionPool(std::string connectionString, int maxSize, std::chrono::milliseconds wait,
                   int connectTimeoutSeconds);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // Exclusive use of one connection; returned to the pool on destruction unless broken.
    class Lease {
      public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
            : _pool(&pool), _connection(std::move(connection)) {}
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();

        Connection& operator*() { return *_connection; }
        Connection* operator->() { return _connection.get(); }
        // The connection failed: close it instead of returning it.
        void markBroken() { _broken = true; }

      private:
        ConnectionPool* _pool;
        std::unique_ptr<Connection> _connection;
        bool _broken = false;
    };

    // Throws PoolTimeout after the wait, DatabaseUnavailable when a new connection fails.
    Lease acquire();

    // Runs f(Connection&) on a leased connection. When f throws, the connection is closed and,
    // if PostgreSQL is unreachable, every idle connection too and DatabaseUnavailable is thrown
    // (other errors are rethrown as they are).
    template <class F>
    auto run(F&& f) {
        Lease lease = acquire();
        try {
            return f(*lease);
        } catch (const PoolTimeout&) {
            throw;
        } catch (const DatabaseUnavailable&) {
            lease.markBroken();
            discardIdle();
            throw;
        } catch (...) {
            lease.markBroken();
            if (!alive(*lease)) {
                discardIdle();
                throw DatabaseUnavailable("the PostgreSQL connection broke");
            }
            throw;
        }
    }

    // Closes every idle connection (after PostgreSQL went away they are all dead).
    void discardIdle();
    PoolStats stats() const;
    const std::string& connectionString() const { return _connectionString; }

    // Opens a new session with the pool's settings (TimeZone UTC). Throws DatabaseUnavailable.
    static Poco::Data::Session connect(const std::string& connectionString,
                                       int connectTimeoutSeconds);

  private:
    void giveBack(std::unique_ptr<Connection> connection, bool broken);
    static bool alive(Connection& connection);

    const std::string _connectionString;
    const int _maxSize;
    const std::chrono::milliseconds _wait;
    const int _connectTimeoutSeconds;

    mutable std::mutex _mutex;
    std::condition_variable _available;
    std::vector<std::unique_ptr<Connection>> _idle;
    int _open = 0;
    int _waiting = 0;
};

}  // namespace sensorsys::server
