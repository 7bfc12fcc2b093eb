# Installed layout (docs/contract.md §1) and the CMake package plugin authors use:
#   find_package(sensorsys) ; target_link_libraries(myplugin PRIVATE sensorsys::plugin)
include(CMakePackageConfigHelpers)

install(FILES core/include/sensorsys/plugin.h
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/sensorsys" COMPONENT dev)
install(TARGETS sensorsys_plugin_abi EXPORT sensorsysTargets COMPONENT dev)

set(SENSORSYS_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/sensorsys")
install(EXPORT sensorsysTargets NAMESPACE sensorsys:: DESTINATION "${SENSORSYS_CMAKE_DIR}"
        COMPONENT dev)
configure_package_config_file(cmake/sensorsysConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/sensorsysConfig.cmake"
  INSTALL_DESTINATION "${SENSORSYS_CMAKE_DIR}"
  PATH_VARS SENSORSYS_PLUGIN_INSTALL_DIR)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/sensorsysConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/sensorsysConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/sensorsysConfigVersion.cmake"
        DESTINATION "${SENSORSYS_CMAKE_DIR}" COMPONENT dev)
