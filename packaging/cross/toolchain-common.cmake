# Shared by the toolchain files: compilers for SENSORSYS_CROSS_TRIPLET and the sysroot.
# The sysroot path lives in a cache variable: toolchain files run again on every try_compile
# and re-configure, and a sysroot taken from the environment only would be lost there, letting
# the host's headers leak in.
set(SENSORSYS_SYSROOT "" CACHE PATH "Sysroot made by packaging/cross/make-sysroot.sh")
if(NOT SENSORSYS_SYSROOT OR NOT EXISTS "${SENSORSYS_SYSROOT}/usr/include")
  message(FATAL_ERROR "SENSORSYS_SYSROOT='${SENSORSYS_SYSROOT}' is not a sysroot: make one with "
                      "packaging/cross/make-sysroot.sh and pass -DSENSORSYS_SYSROOT=<dir>/sysroot")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SENSORSYS_SYSROOT)

set(CMAKE_C_COMPILER ${SENSORSYS_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${SENSORSYS_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${SENSORSYS_CROSS_TRIPLET})
set(CMAKE_SYSROOT "${SENSORSYS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${SENSORSYS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (libgpiod for the motion plugin) reads the target's .pc files, with the sysroot
# prefixed to the paths they give.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SENSORSYS_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${SENSORSYS_SYSROOT}/usr/lib/${SENSORSYS_CROSS_TRIPLET}/pkgconfig:${SENSORSYS_SYSROOT}/usr/share/pkgconfig")
