# Installation and packaging: `cmake --install` puts the library, the CLI, the header, a pkg-config
# file, a CMake package, the man pages threadwatch(1) and threadwatch(7) and a bash completion in
# the usual places; CPack (`cpack -G DEB` in the build tree) makes a Debian package of the same.
# Every installed path is relative to the prefix: the CLI finds the library from its own location
# (tools/CMakeLists.txt, TW_LIB_RELDIR), the .pc file from ${pcfiledir}, the CMake package from
# its own directory, so an installed tree can be moved and the .deb can use another prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS threadwatch LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS threadwatch-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/threadwatch.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# pkg-config: relative to the .pc file's own directory.
file(RELATIVE_PATH TW_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" TW_PC_TO_PREFIX "${TW_PC_TO_PREFIX}")
set(TW_PC_LIBS "")
foreach(lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND TW_PC_LIBS "-l${lib}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/threadwatch.pc.in ${PROJECT_BINARY_DIR}/threadwatch.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/threadwatch.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: find_package(threadwatch).
set(TW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/threadwatch)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/threadwatchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/threadwatchConfig.cmake INSTALL_DESTINATION ${TW_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR)
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/threadwatchConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/threadwatchConfig.cmake
              ${PROJECT_BINARY_DIR}/threadwatchConfigVersion.cmake DESTINATION ${TW_CMAKE_DIR})

# Man pages: threadwatch(7)'s option list is rendered from the option table by the CLI itself.
set(TW_MAN_DIR ${PROJECT_BINARY_DIR}/man)
add_custom_command(OUTPUT ${TW_MAN_DIR}/threadwatch.7
  COMMAND ${CMAKE_COMMAND} -E make_directory ${TW_MAN_DIR}
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:threadwatch-cli>
          -DIN=${PROJECT_SOURCE_DIR}/docs/man/threadwatch.7.in -DOUT=${TW_MAN_DIR}/threadwatch.7
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/GenMan.cmake
  DEPENDS threadwatch-cli ${PROJECT_SOURCE_DIR}/docs/man/threadwatch.7.in
          ${PROJECT_SOURCE_DIR}/cmake/GenMan.cmake
  COMMENT "man page threadwatch(7)")
configure_file(${PROJECT_SOURCE_DIR}/docs/man/threadwatch.1.in ${TW_MAN_DIR}/threadwatch.1 @ONLY)
add_custom_target(threadwatch-man ALL DEPENDS ${TW_MAN_DIR}/threadwatch.7)
install(FILES ${TW_MAN_DIR}/threadwatch.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${TW_MAN_DIR}/threadwatch.7 DESTINATION ${CMAKE_INSTALL_MANDIR}/man7)

# bash completion, where bash-completion looks (share/bash-completion/completions/threadwatch).
install(FILES ${PROJECT_SOURCE_DIR}/scripts/threadwatch-completion.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME threadwatch)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE
              ${PROJECT_SOURCE_DIR}/docs/report-format.md ${PROJECT_SOURCE_DIR}/docs/report.schema.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: `cpack -G DEB` (scripts/test.sh builds, installs, uses and removes it).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME threadwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "finds thread leaks, deadlocks, stalls and pthread misuse in unmodified programs")
set(CPACK_PACKAGE_DESCRIPTION
    "threadwatch is preloaded (LD_PRELOAD, or `threadwatch run`) into a dynamically linked C or C++
program and reports threads that leak, deadlocks while they happen, lock-order cycles before they
hang, stalls and pthread API misuse, as text, JSON Lines and SARIF.")
set(CPACK_PACKAGE_CONTACT "threadwatch maintainers <threadwatch@invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # libunwind, libdw, libc from the binaries themselves
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
