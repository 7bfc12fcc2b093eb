# Included by core/CMakeLists.txt: generates the C++ source holding sql/agent/**/V*.sql
# (rebuilt when a migration changes) and sets SENSORSYS_AGENT_MIGRATIONS_CPP to its path.
file(GLOB_RECURSE _sensorsys_agent_sql CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/sql/agent/*.sql")
set(SENSORSYS_AGENT_MIGRATIONS_CPP "${CMAKE_CURRENT_BINARY_DIR}/agent_migrations_embedded.cpp")
add_custom_command(
  OUTPUT "${SENSORSYS_AGENT_MIGRATIONS_CPP}"
  COMMAND ${CMAKE_COMMAND} -DDIR=${PROJECT_SOURCE_DIR}/sql/agent -DOUT=${SENSORSYS_AGENT_MIGRATIONS_CPP}
          -P "${CMAKE_CURRENT_LIST_DIR}/embed_agent_migrations.cmake"
  DEPENDS ${_sensorsys_agent_sql} "${CMAKE_CURRENT_LIST_DIR}/embed_agent_migrations.cmake"
  COMMENT "Embedding sql/agent migrations")
