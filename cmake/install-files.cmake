# Install-time step (install(SCRIPT), component "bluetti" and "dev"): files whose contents
# depend on the prefix actually installed to (`cmake --install build --prefix P` may differ
# from the configured one): the systemd unit, bluetti.pc, and the example configuration
# copied to <sysconfdir>/bluetti/bridge.ini unless one is there already (never overwritten).
# In (set by install(CODE) before this script): BLT_SRC, BLT_BIN (build dir), BLT_BINDIR,
# BLT_LIBDIR, BLT_INCLUDEDIR, BLT_SYSCONFDIR, BLT_UNITDIR (may be empty), BLT_PART.
function(blt_abs var rel)
  if(IS_ABSOLUTE "${rel}")
    set(${var} "${rel}" PARENT_SCOPE)
  else()
    set(${var} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

blt_abs(bindir "${BLT_BINDIR}")
blt_abs(libdir "${BLT_LIBDIR}")
blt_abs(includedir "${BLT_INCLUDEDIR}")
# GNUInstallDirs' rule: prefix /usr -> /etc, /opt/X -> /etc/opt/X, else PREFIX/etc.
if(IS_ABSOLUTE "${BLT_SYSCONFDIR}" AND NOT BLT_SYSCONFDIR STREQUAL "/etc")
  set(sysconfdir "${BLT_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr" OR CMAKE_INSTALL_PREFIX STREQUAL "/")
  set(sysconfdir "/etc")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/opt/")
  set(sysconfdir "/etc${CMAKE_INSTALL_PREFIX}")
else()
  set(sysconfdir "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(BLT_CONFDIR "${sysconfdir}/bluetti")
set(BLT_BINDIR_FULL "${bindir}")
set(gen "${BLT_BIN}/install-gen")

if(BLT_PART STREQUAL "bluetti")
  if(BLT_UNITDIR)
    set(unitdir "${BLT_UNITDIR}")
  else()
    set(unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  endif()
  set(BLT_BINDIR "${bindir}") # for the template
  configure_file("${BLT_SRC}/packaging/bluetti-bridge.service.in"
                 "${gen}/bluetti-bridge.service" @ONLY)
  file(INSTALL DESTINATION "${unitdir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE
       GROUP_READ WORLD_READ FILES "${gen}/bluetti-bridge.service")
  if(EXISTS "$ENV{DESTDIR}${BLT_CONFDIR}/bridge.ini")
    message(STATUS "Kept: $ENV{DESTDIR}${BLT_CONFDIR}/bridge.ini (not overwritten)")
  else()
    # No secrets in the example; the real file gets 0640 root:bluetti (see the unit).
    file(INSTALL DESTINATION "${BLT_CONFDIR}" TYPE FILE RENAME bridge.ini
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
         FILES "${BLT_SRC}/packaging/bridge.example.ini")
  endif()
elseif(BLT_PART STREQUAL "dev")
  # Paths below the prefix are written relative to ${prefix}, so that
  # `pkg-config --define-variable=prefix=...` relocates them.
  set(prefix "${CMAKE_INSTALL_PREFIX}")
  foreach(v libdir includedir)
    set(pc_${v} "${${v}}")
    string(FIND "${${v}}/" "${prefix}/" at)
    if(at EQUAL 0 AND NOT prefix STREQUAL "/")
      string(LENGTH "${prefix}" n)
      string(SUBSTRING "${${v}}" ${n} -1 rest)
      set(pc_${v} "\${prefix}${rest}")
    endif()
  endforeach()
  configure_file("${BLT_SRC}/cmake/bluetti.pc.in" "${gen}/bluetti.pc" @ONLY)
  file(INSTALL DESTINATION "${libdir}/pkgconfig" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE
       GROUP_READ WORLD_READ FILES "${gen}/bluetti.pc")
endif()
