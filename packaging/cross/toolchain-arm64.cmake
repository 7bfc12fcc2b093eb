# Cross-compiling sensorsys for the Raspberry Pi, 64-bit (Raspberry Pi OS / Debian arm64),
# against a sysroot made by packaging/cross/make-sysroot.sh:
#   cmake -DCMAKE_TOOLCHAIN_FILE=packaging/cross/toolchain-arm64.cmake -DSENSORSYS_SYSROOT=DIR ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SENSORSYS_CROSS_TRIPLET aarch64-linux-gnu)
set(SENSORSYS_DEB_ARCHITECTURE arm64 CACHE STRING "Debian architecture of the packages")
include("${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake")
