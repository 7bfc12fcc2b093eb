# Shared target settings for sensorsys' own code.

# Warnings on every target we build, as errors only with SENSORSYS_WERROR (the developer and
# CI presets turn it on; a user's, packager's or newer compiler's build never breaks on a
# warning), and hidden symbols.
function(sensorsys_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(SENSORSYS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()

# sensorsys_add_plugin(<target> PLUGIN_NAME <name> SOURCES <files...> [LIBS <libs...>])
# A sensor plugin: a self-contained MODULE exporting only sensorsys_plugin_entry, linked with
# --no-undefined so a missing symbol fails the build instead of the agent, written to the
# build's plugin folder and installed into lib/sensorsys (component "plugins").
function(sensorsys_add_plugin target)
  cmake_parse_arguments(ARG "" "PLUGIN_NAME" "SOURCES;LIBS" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  sensorsys_target_defaults(${target})
  target_link_libraries(${target} PRIVATE sensorsys::plugin ${ARG_LIBS})
  # Export exactly the entry function: template instantiations and typeinfo from the C++ side
  # stay private to the plugin, so two plugins can never bind to each other's copies.
  target_link_options(${target} PRIVATE -Wl,--no-undefined
                      "-Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/plugin-exports.map")
  set_target_properties(${target} PROPERTIES
    LINK_DEPENDS "${PROJECT_SOURCE_DIR}/cmake/plugin-exports.map"
    PREFIX ""
    OUTPUT_NAME "${ARG_PLUGIN_NAME}"
    LIBRARY_OUTPUT_DIRECTORY "${SENSORSYS_PLUGIN_BUILD_DIR}")
  install(TARGETS ${target} LIBRARY DESTINATION "${SENSORSYS_PLUGIN_INSTALL_DIR}" COMPONENT plugins)
endfunction()
