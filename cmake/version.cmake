# Version: one string, set by project(VERSION ...) in CMakeLists.txt (the only place).
#  - <build>/generated/bluetti/version.h (configure time, installed): BLT_VERSION_MAJOR,
#    BLT_VERSION_MINOR, BLT_VERSION_PATCH, BLT_VERSION_STRING ("0.1.0").
#  - the build version returned by blt_version() (`--version` of the three programs, the
#    bridge's Home Assistant sw_version): refreshed at every build by version-gen.cmake:
#    PROJECT_VERSION, plus the git description when built from a git checkout
#    (0.1.0+g736180b, 0.1.0+g736180b.dirty; with a tag v0.1.0: 0.1.0+12.g736180b).
#    -DBLT_VERSION_EXTRA=TEXT replaces the git part ("-" for none), e.g. for packagers.
set(BLT_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
set(BLT_VERSION_EXTRA "" CACHE STRING "Replaces the git part of the build version (- for none)")

configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in ${BLT_GENERATED_DIR}/bluetti/version.h
               @ONLY)

add_custom_target(blt_version_gen
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${BLT_GENERATED_DIR}/blt_build_version.h
          -DVERSION=${PROJECT_VERSION} -DEXTRA=${BLT_VERSION_EXTRA}
          -P ${CMAKE_CURRENT_LIST_DIR}/version-gen.cmake
  BYPRODUCTS ${BLT_GENERATED_DIR}/blt_build_version.h
  COMMENT "" VERBATIM)

# Every layer and both libraries see the generated public header; blt_core (blt_version())
# also sees the build version.
foreach(layer ${BLT_LAYERS})
  if(TARGET blt_${layer})
    target_include_directories(blt_${layer} PUBLIC ${BLT_GENERATED_DIR})
  endif()
endforeach()
foreach(lib bluetti_shared bluetti_static)
  target_include_directories(${lib} PUBLIC ${BLT_GENERATED_DIR})
endforeach()
target_include_directories(blt_core PRIVATE ${BLT_GENERATED_DIR})
add_dependencies(blt_core blt_version_gen)
# The check that every public header compiles alone needs the generated one too.
if(TARGET blt_header_check)
  target_include_directories(blt_header_check PRIVATE ${BLT_GENERATED_DIR})
endif()
