# Install layout and the Debian package (CPack DEB). Included from the top-level CMakeLists.txt.
#
# `cmake --install <build> --prefix P` lays out:
#   P/sbin/carehubd, P/bin/carehubctl                        (daemon/CMakeLists.txt)
#   P/lib/systemd/system/carehubd.service
#   P/lib/sysusers.d/carehub.conf, P/lib/tmpfiles.d/carehub.conf
#   P/share/man/man8/carehubd.8, P/share/man/man1/carehubctl.1
#   P/share/doc/carehub/*.md                                 (README and docs/)
#   P/share/carehub/{carehubd.example.json,demo.json,rules/} (examples to copy from)
#   ETC/carehub/carehubd.json, ETC/carehub/rules/*.json      (what the daemon reads)
# where ETC is /etc for a system install (prefix /usr, as in the .deb) and P/etc otherwise. That choice
# is made at install time, because cpack and `cmake --install --prefix` pick the prefix then, not when
# CMake configures; a build configured for /usr/local must never write to the real /etc.
#
# The package: `cpack --config <build>/CPackConfig.cmake -G DEB` (tests/packaging/ builds, inspects and
# installs it into a scratch root). Dependencies come from dpkg-shlibdeps; maintainer scripts are in
# packaging/.

# `install` and cpack take what is built and never build first: the packaging test runs cpack from inside
# ctest, after the build, and must not start a second build of the whole tree.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CAREHUB_SHIPPED_RULES hf5.json hfpef.json inactivity.json weight-trend.json)

install(FILES ${PROJECT_SOURCE_DIR}/systemd/carehubd.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/carehub.sysusers DESTINATION lib/sysusers.d RENAME carehub.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/carehub.tmpfiles DESTINATION lib/tmpfiles.d RENAME carehub.conf)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/carehubd.8 DESTINATION share/man/man8)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/carehubctl.1 DESTINATION share/man/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/docs/architecture.md
              ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/rules.md
              ${PROJECT_SOURCE_DIR}/docs/technician-guide.md
              ${PROJECT_SOURCE_DIR}/docs/clinician-guide.md
              ${PROJECT_SOURCE_DIR}/docs/operations.md
        DESTINATION share/doc/carehub)
install(FILES ${PROJECT_SOURCE_DIR}/config/carehubd.example.json ${PROJECT_SOURCE_DIR}/config/demo.json
        DESTINATION share/carehub)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/rules/ DESTINATION share/carehub/rules)

# The configuration the daemon reads. file(INSTALL) honours DESTDIR and records the files in the
# install manifest like any install() rule.
set(_carehub_rule_files "")
foreach(rule IN LISTS CAREHUB_SHIPPED_RULES)
  string(APPEND _carehub_rule_files " \"${PROJECT_SOURCE_DIR}/config/rules/${rule}\"")
endforeach()
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_carehub_etc \"/etc/carehub\")
  else()
    set(_carehub_etc \"\${CMAKE_INSTALL_PREFIX}/etc/carehub\")
  endif()
  file(INSTALL DESTINATION \"\${_carehub_etc}\" TYPE FILE RENAME carehubd.json
       FILES \"${PROJECT_SOURCE_DIR}/config/carehubd.example.json\")
  file(INSTALL DESTINATION \"\${_carehub_etc}/rules\" TYPE FILE FILES ${_carehub_rule_files})
  # 0750 as in tmpfiles.d and the unit's ConfigurationDirectoryMode=: the .deb's own entry for the
  # directory must not say 0755, or systemd warns at every start until tmpfiles corrects it.
  file(CHMOD \"\$ENV{DESTDIR}\${_carehub_etc}\" DIRECTORY_PERMISSIONS
       OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
")

# --- Debian package ---------------------------------------------------------------------------------
set(CAREHUB_PACKAGE_MAINTAINER "carehub maintainers <carehub@localhost>" CACHE STRING "Maintainer field of the .deb")

# Everything under /etc the package ships is a conffile: dpkg keeps a technician's edits on upgrade.
set(_carehub_conffiles "/etc/carehub/carehubd.json\n")
foreach(rule IN LISTS CAREHUB_SHIPPED_RULES)
  string(APPEND _carehub_conffiles "/etc/carehub/rules/${rule}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${_carehub_conffiles}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME carehub)
set(CPACK_PACKAGE_VENDOR carehub)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "home hub gateway: health devices -> durable buffer -> FHIR")
set(CPACK_PACKAGE_DESCRIPTION
    "carehubd takes measurements from Bluetooth LE health devices, openHAB and MQTT, keeps them in a\n\
durable SQLite buffer, raises decision-support alerts at home, and delivers the readings exactly once as\n\
FHIR R4 Observations. carehubctl is the technician's command line.")
# A DESTDIR install with the packaging prefix /usr: what lands in /etc and /usr/lib/systemd is then
# decided by the rules above exactly as on a system install.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)  # with CPACK_SET_DESTDIR, the prefix cpack installs to (not the build's)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CAREHUB_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Libraries: dpkg-shlibdeps. The rest: the maintainer scripts' deb-systemd-helper, and systemd-sysusers
# (or adduser) for the user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~), systemd | adduser")
# No sqlite3: the shell cannot read the encrypted buffer (carehubctl buffer backup|restore|rekey instead).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bluez")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm
    ${PROJECT_SOURCE_DIR}/packaging/postrm
    ${PROJECT_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
