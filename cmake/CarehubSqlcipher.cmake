# The buffer's SQLite: SQLCipher 4.14.0 compiled from its amalgamation into one static library
# (docs/design/encrypted-buffer.md, section B). scripts/install-deps.sh fetches the two files; the pins are
# in third_party/sqlcipher/VERSION. One target with fixed flags in every tree: -O1 -g0 whatever
# CMAKE_BUILD_TYPE says, no warnings policy of ours and no sanitizer flags (it does not link
# carehub_options), so CI's three trees each compile the same object.
set(_carehub_sc ${PROJECT_SOURCE_DIR}/third_party/sqlcipher)
set(_carehub_sc_c_sha256 2ba87bbc92caf02c0ac640198c537c24bdda899a18bbba289f3d3f44d56795e4)
set(_carehub_sc_h_sha256 c7253bc5d2ba0fad5236fc10ed959f99374bdbc224c200250c9c4a90edf56023)
foreach(_f c h)
  if(NOT EXISTS ${_carehub_sc}/sqlite3.${_f})
    message(FATAL_ERROR "third_party/sqlcipher/sqlite3.${_f} is missing: run scripts/install-deps.sh")
  endif()
  file(SHA256 ${_carehub_sc}/sqlite3.${_f} _carehub_sc_sum)
  if(NOT _carehub_sc_sum STREQUAL _carehub_sc_${_f}_sha256)
    message(FATAL_ERROR "third_party/sqlcipher/sqlite3.${_f} is not SQLCipher 4.14.0 (sha256 ${_carehub_sc_sum}): "
                        "run scripts/install-deps.sh")
  endif()
endforeach()

add_library(carehub_sqlcipher STATIC ${_carehub_sc}/sqlite3.c)
set_target_properties(carehub_sqlcipher PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
target_include_directories(carehub_sqlcipher SYSTEM PUBLIC ${_carehub_sc})
# Exactly the flags of the object the spike ran the store's suites on. Add none without running them.
target_compile_definitions(carehub_sqlcipher
  PUBLIC SQLITE_HAS_CODEC SQLITE_OMIT_DEPRECATED
  PRIVATE HAVE_STDINT_H=1 SQLITE_EXTRA_INIT=sqlcipher_extra_init SQLITE_EXTRA_SHUTDOWN=sqlcipher_extra_shutdown
          SQLITE_TEMP_STORE=2 SQLCIPHER_CRYPTO_OPENSSL SQLITE_THREADSAFE=1 SQLITE_OMIT_LOAD_EXTENSION
          SQLITE_DEFAULT_FOREIGN_KEYS=0
          # What Debian's sqlite3 (built by configure) has and a bare amalgamation does not: without it
          # every commit's sync is a full fsync() (os_unix.c: "#define fdatasync fsync"), which on a
          # journalled ext4 also commits the journal for the WAL file's mtime (issue 15's profile).
          HAVE_FDATASYNC=1)
# Last flags win over CMAKE_C_FLAGS_<CONFIG>: -O1 costs half the compile of -O2 and ran as fast (spike).
target_compile_options(carehub_sqlcipher PRIVATE -O1 -g0 -w)
target_link_libraries(carehub_sqlcipher PUBLIC OpenSSL::Crypto Threads::Threads m)
add_library(SQLCipher::SQLCipher ALIAS carehub_sqlcipher)
