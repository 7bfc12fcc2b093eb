# Cross-compiling sensorsys for the Raspberry Pi, 32-bit, Pi 2/3/Zero 2 (Raspberry Pi OS / Debian armhf),
# against a sysroot made by packaging/cross/make-sysroot.sh:
#   cmake -DCMAKE_TOOLCHAIN_FILE=packaging/cross/toolchain-armhf.cmake -DSENSORSYS_SYSROOT=DIR ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(SENSORSYS_CROSS_TRIPLET arm-linux-gnueabihf)
set(SENSORSYS_DEB_ARCHITECTURE armhf CACHE STRING "Debian architecture of the packages")
include("${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake")
