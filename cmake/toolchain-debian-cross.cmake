# Cross build with Debian's cross toolchains and multiarch -dev packages
# (scripts/cross.sh, `make cross-arm64` / `make cross-armhf`; docs/install.md).
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-debian-cross.cmake \
#         -DBLT_CROSS_TRIPLET=aarch64-linux-gnu            (or arm-linux-gnueabihf)
# Compiler <triplet>-gcc (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf), libraries and
# .pc files of the target architecture from /usr/lib/<triplet> (libssl-dev:arm64 ...), and
# test programs run under qemu-user (qemu-aarch64 / qemu-arm from Debian's qemu-user),
# which finds the target's loader and libraries in the multiarch directories.
# With -DBLT_CROSS_SYSROOT=DIR (scripts/cross.sh --sysroot) the target's libraries and
# headers come from DIR instead (Debian packages of the target unpacked there), and qemu
# runs with -L DIR: nothing of the target architecture is installed on the host.
if(NOT BLT_CROSS_TRIPLET)
  set(BLT_CROSS_TRIPLET $ENV{BLT_CROSS_TRIPLET})
endif()
if(NOT BLT_CROSS_TRIPLET)
  message(FATAL_ERROR "set BLT_CROSS_TRIPLET (aarch64-linux-gnu or arm-linux-gnueabihf)")
endif()
# try_compile projects see the toolchain file again: keep the triplet.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BLT_CROSS_TRIPLET BLT_CROSS_SYSROOT)

set(CMAKE_SYSTEM_NAME Linux)
if(BLT_CROSS_TRIPLET MATCHES "^aarch64")
  set(CMAKE_SYSTEM_PROCESSOR aarch64)
  set(_qemu qemu-aarch64)
else()
  set(CMAKE_SYSTEM_PROCESSOR arm)
  set(_qemu qemu-arm)
endif()
set(CMAKE_C_COMPILER ${BLT_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${BLT_CROSS_TRIPLET})
find_program(BLT_QEMU ${_qemu})
if(BLT_QEMU)
  if(BLT_CROSS_SYSROOT)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${BLT_QEMU} -L ${BLT_CROSS_SYSROOT})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${BLT_QEMU})
  endif()
endif()

# Headers and libraries of the target only (the host's /usr/include is shared by multiarch;
# its libraries are not).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
if(BLT_CROSS_SYSROOT)
  set(CMAKE_SYSROOT ${BLT_CROSS_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${BLT_CROSS_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR}
      "${BLT_CROSS_SYSROOT}/usr/lib/${BLT_CROSS_TRIPLET}/pkgconfig:${BLT_CROSS_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${BLT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()
set(ENV{PKG_CONFIG_PATH} "")
