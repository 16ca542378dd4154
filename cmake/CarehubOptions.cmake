# Compiler settings shared by every carehub target, applied through the carehub_options interface target.
add_library(carehub_options INTERFACE)
target_compile_options(carehub_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(CAREHUB_WERROR)
  target_compile_options(carehub_options INTERFACE -Werror)
endif()
# CAREHUB_SANITIZE=thread: ThreadSanitizer for the threaded parts (scripts/test.sh runs it over the
# pipeline, control server, uploader and sources); any other true value: AddressSanitizer + UBSan.
if(CAREHUB_SANITIZE STREQUAL "thread")
  target_compile_options(carehub_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(carehub_options INTERFACE -fsanitize=thread)
elseif(CAREHUB_SANITIZE)
  target_compile_options(carehub_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(carehub_options INTERFACE -fsanitize=address,undefined)
endif()
set(CAREHUB_FUZZ_SECONDS 10 CACHE STRING "Seconds each fuzz target runs under CTest")
if(CAREHUB_FUZZ)
  # Every library gets coverage instrumentation so the fuzzers can see into it.
  target_compile_options(carehub_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(carehub_options INTERFACE -fsanitize=address,undefined)
endif()
# Headers are included from the repository root: #include "core/reading.hpp".
target_include_directories(carehub_options INTERFACE ${PROJECT_SOURCE_DIR})

# Build speed of the test trees (scripts/test.sh sets both; a plain configure changes nothing).
# CAREHUB_TEST_COMPILE_OPTIONS: extra flags for everything under tests/ (tests, their support, fuzz
# harnesses, benchmarks), never for the libraries and binaries under test; e.g. "-Og;-g1": test code at
# -O2 -g costs twice the compile time for nothing the tests check. They follow the build type's flags, so
# they win (tests/CMakeLists.txt applies them).
# CAREHUB_PCH: the GoogleTest executables share one precompiled header (GoogleTest, GoogleMock,
# nlohmann/json, the standard headers they use; tests/CMakeLists.txt), about a second saved per test file.
# A test file that forgets one of those includes still compiles with it, so builds without it (the
# default) are the ones that catch that.
set(CAREHUB_TEST_COMPILE_OPTIONS "" CACHE STRING "Extra compile options for the code under tests/ only")
option(CAREHUB_PCH "One precompiled header for the GoogleTest executables" OFF)
# CAREHUB_UNITY: compile in unity batches (cmake/CarehubTargets.cmake), about half a target's compile time.
#   tests  the test executables only;
#   all    the libraries too (scripts/test.sh, every tree): a batch can change what a name means (an
#          overload in one file's anonymous namespace can silently win a call in a sibling), which
#          conventions.unity_names checks in each tree that has batches.
# Like CAREHUB_PCH it is for the test trees only: a batch also hides a missing include, which the plain
# configure developers build still catches. A name in a file's anonymous namespace that a sibling also
# defines breaks the batch: rename it, or list the file with carehub_alone() beside its target.
set(CAREHUB_UNITY "" CACHE STRING "Unity batches: empty (none), tests, or all")
set_property(CACHE CAREHUB_UNITY PROPERTY STRINGS "" tests all)
