# Debian packages (docs/contract.md §6), one per install component:
#   agent -> sensorsys-agent     plugins -> sensorsys-plugins
#   server -> sensorsys-server   dev -> sensorsys-dev
# Included from the top-level CMakeLists.txt after cmake/SensorsysInstall.cmake. Adds the
# install rules for what only the packages need (configuration, systemd units, nginx site,
# copyright and changelog), then configures CPack's DEB generator. Build with
# packaging/build-packages.sh (amd64) or packaging/build-arm64.sh (the Pi); see packaging/README.md.

set(SENSORSYS_PACKAGING_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(SENSORSYS_DEB_ARCHITECTURE "" CACHE STRING
    "Debian architecture of the packages (empty: dpkg --print-architecture; set by cross toolchains)")

# Configuration and units land where Debian wants them when the prefix is /usr
# (/etc/sensorsys, /lib/systemd/system); any other prefix keeps them under it, so a developer's
# `cmake --install` into a folder never writes to /etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_sensorsys_unit_dir "/lib/systemd/system")
else()
  set(_sensorsys_unit_dir "lib/systemd/system")
endif()
set(_sensorsys_conf_dir "${CMAKE_INSTALL_FULL_SYSCONFDIR}/sensorsys")
set(_sensorsys_token_conf_mode OWNER_READ OWNER_WRITE GROUP_READ)  # 0640, group set by postinst

# Copyright and a compressed Debian changelog in every package's doc folder (lintian errors
# without them). gzip -n: no time stamp, so the package is reproducible.
set(_sensorsys_changelog_gz "${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian.gz")
file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/packaging")
execute_process(COMMAND gzip -9nc "${SENSORSYS_PACKAGING_DIR}/debian/changelog"
                OUTPUT_FILE "${_sensorsys_changelog_gz}" RESULT_VARIABLE _sensorsys_gzip_rc)
if(NOT _sensorsys_gzip_rc EQUAL 0)
  message(FATAL_ERROR "gzip of packaging/debian/changelog failed (${_sensorsys_gzip_rc})")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${SENSORSYS_PACKAGING_DIR}/debian/changelog")

# Manual pages, compressed the same way (lintian: no-manual-page).
foreach(_page sensorsys-agent sensorsys-plugin-host sensorsys-server)
  execute_process(COMMAND gzip -9nc "${SENSORSYS_PACKAGING_DIR}/man/${_page}.1"
                  OUTPUT_FILE "${CMAKE_CURRENT_BINARY_DIR}/packaging/${_page}.1.gz"
                  RESULT_VARIABLE _sensorsys_gzip_rc)
  if(NOT _sensorsys_gzip_rc EQUAL 0)
    message(FATAL_ERROR "gzip of packaging/man/${_page}.1 failed (${_sensorsys_gzip_rc})")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${SENSORSYS_PACKAGING_DIR}/man/${_page}.1")
endforeach()

function(_sensorsys_package_docs component package)
  install(FILES "${SENSORSYS_PACKAGING_DIR}/debian/copyright" "${_sensorsys_changelog_gz}"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/${package}" COMPONENT ${component})
endfunction()

set(_sensorsys_components)
if(TARGET sensorsys-agent)
  list(APPEND _sensorsys_components agent)
  install(FILES etc/agent.properties DESTINATION "${_sensorsys_conf_dir}"
          PERMISSIONS ${_sensorsys_token_conf_mode} COMPONENT agent)
  install(FILES etc/systemd/sensorsys-agent.service DESTINATION "${_sensorsys_unit_dir}"
          COMPONENT agent)
  # The agent's schema, for reference (the agent applies it from its own binary).
  install(DIRECTORY sql/agent/ DESTINATION "${CMAKE_INSTALL_DATADIR}/sensorsys/sql/agent"
          COMPONENT agent FILES_MATCHING PATTERN "*.sql")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/packaging/sensorsys-agent.1.gz"
                "${CMAKE_CURRENT_BINARY_DIR}/packaging/sensorsys-plugin-host.1.gz"
          DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT agent)
  _sensorsys_package_docs(agent sensorsys-agent)
endif()
if(SENSORSYS_PLUGIN_BME280 OR SENSORSYS_PLUGIN_CPUTEMP OR SENSORSYS_PLUGIN_DISK OR
   SENSORSYS_PLUGIN_DS18B20 OR SENSORSYS_PLUGIN_BH1750 OR SENSORSYS_PLUGIN_EXEC OR
   SENSORSYS_PLUGIN_SGP30 OR SENSORSYS_PLUGIN_MOTION)
  list(APPEND _sensorsys_components plugins)
  _sensorsys_package_docs(plugins sensorsys-plugins)
endif()
if(TARGET sensorsys-server)
  list(APPEND _sensorsys_components server)
  install(FILES etc/server.properties DESTINATION "${_sensorsys_conf_dir}"
          PERMISSIONS ${_sensorsys_token_conf_mode} COMPONENT server)
  # Receivers may carry an Authorization secret: the same mode and group as server.properties.
  install(FILES etc/alerts.properties DESTINATION "${_sensorsys_conf_dir}"
          PERMISSIONS ${_sensorsys_token_conf_mode} COMPONENT server)
  install(FILES etc/systemd/sensorsys-server.service DESTINATION "${_sensorsys_unit_dir}"
          COMPONENT server)
  # Available, not enabled: the admin links it into sites-enabled after setting the names.
  install(FILES etc/nginx/sensorsys.conf RENAME sensorsys
          DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/nginx/sites-available" COMPONENT server)
  # An example, not a site: the upstream block that replaces the site's for several instances.
  install(FILES etc/nginx/sensorsys-instances.conf
          DESTINATION "${CMAKE_INSTALL_DATADIR}/sensorsys/nginx" COMPONENT server)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/packaging/sensorsys-server.1.gz"
          DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT server)
  _sensorsys_package_docs(server sensorsys-server)
endif()
list(APPEND _sensorsys_components dev)
_sensorsys_package_docs(dev sensorsys-dev)

# --- CPack DEB ---------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ${_sensorsys_components})
set(CPACK_PACKAGE_NAME sensorsys)
set(CPACK_PACKAGE_VENDOR sensorsys)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Each package's description is its own (CPACK_COMPONENT_<C>_DESCRIPTION, first line the
# synopsis). CPackDeb prepends the project-wide summary unless it equals CPack's default, so
# keep that default rather than the project's DESCRIPTION.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_THREADS 1)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "sensorsys maintainers <sensorsys-maintainers@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Depends come from the binaries (dpkg-shlibdeps); the lists below only add what the
# maintainer scripts call (adduser) and relations between our own packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(SENSORSYS_DEB_ARCHITECTURE)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${SENSORSYS_DEB_ARCHITECTURE}")
endif()
if(CMAKE_SYSROOT)
  # Cross build: dpkg-shlibdeps finds the target's libraries in the sysroot, and the
  # shlibs/symbols files that packaging/cross/make-sysroot.sh put in <sysroot>/DEBIAN.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      "${CMAKE_SYSROOT}/lib/${CMAKE_LIBRARY_ARCHITECTURE}"
      "${CMAKE_SYSROOT}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()

# The maintainer scripts are one template per script, filled in per package.
function(_sensorsys_maintainer_scripts component package unit enable_unit extra_groups conffiles
         token_conffiles other_package)
  set(PACKAGE "${package}")
  set(UNIT "${unit}")
  set(ENABLE_UNIT "${enable_unit}")
  set(EXTRA_GROUPS "${extra_groups}")
  string(REPLACE ";" " " TOKEN_CONFFILES "${token_conffiles}")
  set(OTHER_PACKAGE "${other_package}")
  set(out "${CMAKE_CURRENT_BINARY_DIR}/packaging/${package}")
  foreach(script postinst prerm postrm)
    configure_file("${SENSORSYS_PACKAGING_DIR}/debian/${script}.in" "${out}/${script}" @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                    WORLD_READ WORLD_EXECUTE)
  endforeach()
  string(REPLACE ";" "\n" conffiles_text "${conffiles}")
  file(WRITE "${out}/conffiles" "${conffiles_text}\n")
  string(TOUPPER "${component}" C)
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA
      "${out}/conffiles;${out}/postinst;${out}/prerm;${out}/postrm" PARENT_SCOPE)
endfunction()

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME sensorsys-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "sensorsys-plugins")
set(CPACK_COMPONENT_AGENT_DESCRIPTION "edge sensor agent: reads, buffers and syncs sensor readings
sensorsys-agent reads sensor plugins (shared objects in /usr/lib/sensorsys)
at a fixed interval, commits every reading to a local SQLite (or PostgreSQL)
buffer and syncs the buffer to a sensorsys server over HTTP, oldest first,
without losing or duplicating readings.
.
The package runs the agent as the unprivileged system user sensorsys under
a hardened systemd unit; its configuration is /etc/sensorsys/agent.properties.")
_sensorsys_maintainer_scripts(agent sensorsys-agent sensorsys-agent.service enable "i2c video gpio"
  "/etc/sensorsys/agent.properties" "/etc/sensorsys/agent.properties" sensorsys-server)

set(CPACK_DEBIAN_PLUGINS_PACKAGE_NAME sensorsys-plugins)
set(CPACK_DEBIAN_PLUGINS_PACKAGE_DEPENDS "sensorsys-agent")
set(CPACK_DEBIAN_PLUGINS_PACKAGE_ENHANCES "sensorsys-agent")
# Our own scripts (a restart of the agent) also keep CPack from adding ldconfig calls: it
# takes /usr/lib/sensorsys for a library folder because its parent is /usr/lib.
set(CPACK_DEBIAN_PLUGINS_PACKAGE_CONTROL_EXTRA
    "${SENSORSYS_PACKAGING_DIR}/debian/sensorsys-plugins/postinst"
    "${SENSORSYS_PACKAGING_DIR}/debian/sensorsys-plugins/postrm")
set(CPACK_COMPONENT_PLUGINS_DESCRIPTION "sensor plugins for sensorsys-agent (BME280, DS18B20, SGP30, PIR, ...)
The sensor plugins of sensorsys, loaded by sensorsys-agent from
/usr/lib/sensorsys:
 - bme280: temperature, pressure and humidity of a Bosch BME280 (or
   BMP280) on an I2C bus;
 - bh1750: ambient light (lux) of a ROHM BH1750 on an I2C bus;
 - ds18b20: DS18B20 1-Wire temperature probes, several on one bus;
 - sgp30: eCO2 and TVOC of a Sensirion SGP30 on an I2C bus, with its
   calibration baseline kept across restarts;
 - motion: a PIR motion sensor (HC-SR501) on a GPIO line (libgpiod);
 - cpu_temp: SoC temperature from vcgencmd or the kernel's thermal zone;
 - disk: usage of a file system;
 - exec: a user's command or script that prints one JSON object.
More sensors: any plugin built with sensorsys-dev, dropped into the folder.")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME sensorsys-server)
# libjs-chart.js: the dashboard's charts (Chart.js, served at /vendor/chart.js).
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, libjs-chart.js")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "postgresql, nginx")
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_COMPONENT_SERVER_DESCRIPTION "server storing sensorsys readings in PostgreSQL
sensorsys-server receives readings from sensorsys agents over HTTP
(POST /readings/bulk) and serves them (GET /readings, /readings/latest,
/devices), with bearer tokens, /health and Prometheus /metrics. It keeps the
Sensor Project's table sensor_project.readings, which --migrate upgrades in
place.
.
The package ships a hardened systemd unit (not enabled until the database is
configured in /etc/sensorsys/server.properties) and an nginx site in
/etc/nginx/sites-available.")
_sensorsys_maintainer_scripts(server sensorsys-server sensorsys-server.service no-enable ""
  "/etc/sensorsys/server.properties;/etc/sensorsys/alerts.properties;/etc/nginx/sites-available/sensorsys"
  "/etc/sensorsys/server.properties;/etc/sensorsys/alerts.properties" sensorsys-agent)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME sensorsys-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)  # a header and CMake files: no binaries
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "cmake, sensorsys-agent")
set(CPACK_COMPONENT_DEV_DESCRIPTION "SDK for writing sensorsys sensor plugins
The plain-C plugin ABI header (sensorsys/plugin.h) and a CMake package: a
plugin project calls find_package(sensorsys) and
sensorsys_add_external_plugin(), or links the target sensorsys::plugin, and
drops the resulting .so into /usr/lib/sensorsys.")

include(CPack)
