# Installation (`make install`, `cmake --install build [--prefix P]`, DESTDIR honoured),
# `make uninstall`, and the shared library's ABI rules. Included at the end of
# CMakeLists.txt. Components (`cmake --install build --component C`), one per package:
#   bluetti  the CLI and the bridge, the systemd unit, the example configuration
#            (<sysconfdir>/bluetti/bridge.ini, never overwritten), bluetti(1) and
#            bluetti-bridge(1)
#   lib      libbluetti.so.0 (SONAME libbluetti.so.0, symbol version BLUETTI_0)
#   dev      headers under include/bluetti/, libbluetti.a, the libbluetti.so link,
#            bluetti.pc
#   sim      bluetti-sim and bluetti-sim(1)
# The programs link the static library, so they need no libbluetti.so at run time.
include(GNUInstallDirs)
set(BLT_SYSTEMD_UNITDIR "" CACHE PATH
    "Where the systemd unit goes (default: <prefix>/lib/systemd/system)")

# --- shared library ABI: only blt_* is exported, with a symbol version ---------------
# Hidden visibility is the default (CMAKE_C_VISIBILITY_PRESET); BLT_API marks the API.
set(BLT_MAP ${CMAKE_CURRENT_LIST_DIR}/libbluetti.map)
target_link_options(bluetti_shared PRIVATE "LINKER:--version-script=${BLT_MAP}")
if(NOT BLT_SANITIZE AND NOT BLT_FUZZ)
  target_link_options(bluetti_shared PRIVATE "LINKER:--no-undefined")
endif()
set_property(TARGET bluetti_shared APPEND PROPERTY LINK_DEPENDS ${BLT_MAP})

# --- what the pkg-config file says a static link needs --------------------------------
set(BLT_PC_REQUIRES_PRIVATE "libssl libcrypto")
foreach(m MOSQUITTO:libmosquitto CJSON:libcjson CURL:libcurl)
  string(REPLACE ":" ";" m ${m})
  list(GET m 0 var)
  list(GET m 1 mod)
  if(${var}_FOUND AND "PkgConfig::${var}" IN_LIST BLT_LINK_DEPS)
    string(APPEND BLT_PC_REQUIRES_PRIVATE " ${mod}")
  endif()
endforeach()
set(BLT_PC_LIBS_PRIVATE "-lm")
if(CMAKE_DL_LIBS)
  string(APPEND BLT_PC_LIBS_PRIVATE " -l${CMAKE_DL_LIBS}")
endif()

# --- programs ---------------------------------------------------------------------------
install(TARGETS bluetti RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bluetti)
if(TARGET bluetti-bridge AND INIH_FOUND)
  install(TARGETS bluetti-bridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT bluetti)
endif()
install(FILES docs/bluetti.1 docs/bluetti-bridge.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT bluetti)
install(FILES packaging/bridge.example.ini
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/bluetti/examples COMPONENT bluetti)
# The MIT license goes with every component (the Debian packages carry it as
# debian/copyright instead: debian/not-installed).
foreach(part bluetti lib dev sim)
  install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/bluetti COMPONENT ${part})
endforeach()
if(TARGET bluetti-sim)
  install(TARGETS bluetti-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sim)
  install(FILES docs/bluetti-sim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT sim)
endif()

# --- library ----------------------------------------------------------------------------
install(TARGETS bluetti_shared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
install(TARGETS bluetti_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY include/bluetti DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.h")
install(FILES ${BLT_GENERATED_DIR}/bluetti/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bluetti COMPONENT dev)

# --- files that depend on the prefix installed to (unit, bluetti.pc, configuration) ----
foreach(part bluetti dev)
  install(CODE "
    set(BLT_PART ${part})
    set(BLT_SRC \"${CMAKE_SOURCE_DIR}\")
    set(BLT_BIN \"${CMAKE_BINARY_DIR}\")
    set(BLT_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
    set(BLT_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(BLT_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(BLT_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
    set(BLT_UNITDIR \"${BLT_SYSTEMD_UNITDIR}\")
    set(PROJECT_VERSION \"${PROJECT_VERSION}\")
    set(BLT_PC_REQUIRES_PRIVATE \"${BLT_PC_REQUIRES_PRIVATE}\")
    set(BLT_PC_LIBS_PRIVATE \"${BLT_PC_LIBS_PRIVATE}\")" COMPONENT ${part})
  install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install-files.cmake COMPONENT ${part})
endforeach()

# --- make uninstall -------------------------------------------------------------------
add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -DBLT_BIN=${CMAKE_BINARY_DIR}
          -P ${CMAKE_CURRENT_LIST_DIR}/uninstall.cmake VERBATIM)

# --- test: install every component into a DESTDIR, build a program with pkg-config ------
add_test(NAME install/destdir
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/install_destdir.sh
                 ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(install/destdir PROPERTIES LABELS install TIMEOUT 300)
if(BLT_SANITIZE)
  # a sanitized libbluetti needs its user built with the same runtime
  set_tests_properties(install/destdir PROPERTIES
                       ENVIRONMENT "BLT_EXTRA_CFLAGS=-fsanitize=address,undefined")
endif()

# --- test: libcurl only loaded for the account, clear error without it ---------------------
add_test(NAME install/no-libcurl
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/no_libcurl.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install/no-libcurl PROPERTIES LABELS install TIMEOUT 60)

# --- test: libsystemd only loaded for Bluetooth LE, clear error without it -----------------
add_test(NAME install/no-libsystemd
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/no_libsystemd.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install/no-libsystemd PROPERTIES LABELS install TIMEOUT 60)
