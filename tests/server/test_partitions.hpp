// Partitions of sensor_project.readings for every time the server tests write by plain SQL
// (2000-2040, a year each, narrowed around any the server made itself). A running server makes
// them only around its clock, and ReadingStore on demand; plain INSERTs need them beforehand.
#pragma once

namespace sensorsys::test {

inline constexpr const char* kTestPartitionsSql =
    "SELECT sensor_project.readings_make_partitions(timestamptz '2000-01-01Z', "
    "timestamptz '2040-01-01Z', interval '1 year')";

}  // namespace sensorsys::test
