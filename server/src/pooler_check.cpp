#include "pooler_check.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <memory>
#include <random>
#include <stdexcept>

namespace sensorsys::server {

namespace {

using Clock = std::chrono::steady_clock;

// A busy pooler (other instances sharing it) may hand the probe's connections servers in an
// order that proves nothing; one more round then usually does. Without a pooler, or with
// session pooling, every round finds the session kept.
constexpr int kRounds = 8;
constexpr const char* kSetting = "sensorsys.session_probe";

struct ConnectionCloser {
    void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConnection = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultClearer>;

// No verdict is possible: PostgreSQL or the pooler cannot be reached, did not answer in time,
// or a probe statement failed (what() says which).
class NoVerdict : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The first two columns of an answer's first row ("" where there are none).
struct Answer {
    std::string first;
    std::string second;
};

PgConnection open(const std::string& connection, std::chrono::seconds wait) {
    // Later keys win in libpq, so these override the configured ones for the probe only.
    const std::string named = connection + " connect_timeout=" + std::to_string(wait.count()) +
                              " application_name=sensorsys-pooler-check";
    PgConnection c(PQconnectdb(named.c_str()));
    if (PQstatus(c.get()) != CONNECTION_OK) throw NoVerdict(PQerrorMessage(c.get()));
    return c;
}

// Until libpq holds a whole result (PQgetResult will not block).
void awaitResult(PGconn* c, Clock::time_point deadline) {
    while (PQisBusy(c)) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) throw NoVerdict("no answer in time");
        pollfd fd{PQsocket(c), POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
            throw NoVerdict("poll failed");
        if (!PQconsumeInput(c)) throw NoVerdict(PQerrorMessage(c));
    }
}

// Runs one statement with the simple query protocol: nothing named is prepared, so the probe
// itself works through any pooler.
Answer ask(PGconn* c, const std::string& sql, Clock::time_point deadline) {
    if (!PQsendQuery(c, sql.c_str())) throw NoVerdict(PQerrorMessage(c));
    Answer answer;
    std::string error;
    while (true) {
        awaitResult(c, deadline);
        PgResult r(PQgetResult(c));
        if (!r) break;
        const auto status = PQresultStatus(r.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            error = PQresultErrorMessage(r.get());
        } else if (PQntuples(r.get()) > 0) {
            answer.first = PQgetvalue(r.get(), 0, 0);
            if (PQnfields(r.get()) > 1) answer.second = PQgetvalue(r.get(), 0, 1);
        }
    }
    if (!error.empty()) throw NoVerdict(error);
    return answer;
}

std::string randomToken() {
    std::random_device random;
    return std::to_string(random()) + std::to_string(random());
}

std::string refusal(const std::string& mode, const std::string& evidence) {
    return "goes through a connection pooler in " + mode +
           " pooling mode (PgBouncer pool_mode=" + mode + "; " + evidence +
           "): sensorsys-server keeps prepared statements and a LISTEN session per connection; "
           "use pool_mode=session for the server's pool (PgBouncer still caps the server "
           "connections of many instances), or connect directly (docs/pgbouncer.md)";
}

// One round: `first` sets a session setting; `second` opens a transaction, which pins a
// server connection under transaction pooling (LIFO by default: the one `first` just gave
// back); then `first` reads its setting back. A connection with a session of its own always
// has its backend and setting; through transaction pooling `second` is handed `first`'s
// backend, or `first` another backend without the setting. Nothing when the session was kept.
std::optional<std::string> probeRound(PGconn* first, PGconn* second, Clock::time_point deadline) {
    const std::string token = randomToken();
    const Answer before = ask(first,
                              "SELECT pg_backend_pid()::text, set_config('" +
                                  std::string(kSetting) + "', '" + token + "', false)",
                              deadline);
    try {
        ask(second, "BEGIN", deadline);
    } catch (const NoVerdict& e) {
        const std::string why = e.what();
        if (why.find("statement pooling") == std::string::npos) throw;
        return refusal("statement", "a transaction block was refused");
    }
    const Answer pinned = ask(second, "SELECT pg_backend_pid()::text", deadline);
    if (pinned.first == before.first) {
        return refusal("transaction",
                       "two client connections were given the same PostgreSQL "
                       "backend, pid " +
                           before.first);
    }
    const Answer after =
        ask(first,
            "SELECT pg_backend_pid()::text, current_setting('" + std::string(kSetting) + "', true)",
            deadline);
    ask(second, "ROLLBACK", deadline);
    if (after.first == before.first && after.second == token) return std::nullopt;
    return refusal("transaction",
                   "a session setting was gone by the next statement: PostgreSQL "
                   "backend pid " +
                       before.first + ", then " + after.first);
}

}  // namespace

std::optional<std::string> sessionPoolingProblem(const std::string& key,
                                                 const std::string& connection,
                                                 std::chrono::seconds wait) {
    try {
        const PgConnection first = open(connection, wait);
        const PgConnection second = open(connection, wait);
        for (int round = 0; round < kRounds; ++round) {
            if (auto problem = probeRound(first.get(), second.get(), Clock::now() + wait))
                return key + " " + *problem;
        }
    } catch (const NoVerdict&) {
        // The server's first own connection reports an unreachable database as it always has.
    }
    return std::nullopt;
}

}  // namespace sensorsys::server
