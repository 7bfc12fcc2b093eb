// The start-up check that database.connection (and database.read_connection) gives each client
// connection a PostgreSQL session of its own. A connection pooler in transaction or statement mode
// (PgBouncer pool_mode=transaction or statement) runs each transaction of a client on whichever
// server connection is free, and the server needs its session: its statements are kept prepared per
// connection (named, by POCO), every connection starts with SET commands, and the change feed
// LISTENs. Through such a pooler the server would start and then fail some requests at random
// ("prepared statement ... does not exist") and miss other instances' readings in the live
// feed, so it refuses to start instead (docs/pgbouncer.md).
// Thread-safety: no shared state; call from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sensorsys::server {

// What is wrong with libpq connection string `connection`, the value of configuration key `key`
// (one message naming the key, the pooling mode and the fix), or nothing when each client
// connection keeps its session: a direct connection or session pooling. Also nothing when no
// verdict is possible (PostgreSQL unreachable, a probe statement failed): the caller's own first
// connection reports that as it always has. Each wait for PostgreSQL or the pooler is bounded by
// `wait`.
std::optional<std::string> sessionPoolingProblem(const std::string& key,
                                                 const std::string& connection,
                                                 std::chrono::seconds wait);

}  // namespace sensorsys::server
