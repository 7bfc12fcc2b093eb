# sensorsys_pg_fixture(<fixture> <info-var> [LABELS <labels...>])
# Adds the ctest fixture <fixture>: a setup test that starts a throwaway PostgreSQL cluster
# (tests/support/pg_cluster.sh) and writes its connection info to a file in this build folder,
# and a cleanup test that stops and deletes it, even when tests failed. Sets <info-var> to the
# file's path; tests read it (sensorsys::test::TemporaryDatabase) and declare
# FIXTURES_REQUIRED <fixture>. Each build folder has its own cluster on its own free port, so
# two builds (normal and ASan) run their suites at the same time without clashes.
set(SENSORSYS_PG_CLUSTER_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/pg_cluster.sh")
set(SENSORSYS_LSAN_SUPPRESSIONS "${CMAKE_CURRENT_LIST_DIR}/lsan.supp")

function(sensorsys_pg_fixture fixture info_var)
  cmake_parse_arguments(ARG "" "" "LABELS" ${ARGN})
  set(info "${CMAKE_CURRENT_BINARY_DIR}/${fixture}.info")
  add_test(NAME ${fixture}_start COMMAND "${SENSORSYS_PG_CLUSTER_SCRIPT}" start "${info}")
  add_test(NAME ${fixture}_stop COMMAND "${SENSORSYS_PG_CLUSTER_SCRIPT}" stop "${info}")
  # ctest runs a fixture's setup/cleanup for the tests it selects whatever their labels;
  # LABELS only makes them show up under those labels too.
  set_tests_properties(${fixture}_start PROPERTIES FIXTURES_SETUP ${fixture} TIMEOUT 120)
  set_tests_properties(${fixture}_stop PROPERTIES FIXTURES_CLEANUP ${fixture} TIMEOUT 120)
  if(ARG_LABELS)
    set_tests_properties(${fixture}_start ${fixture}_stop PROPERTIES LABELS "${ARG_LABELS}")
  endif()
  set(${info_var} "${info}" PARENT_SCOPE)
endfunction()
