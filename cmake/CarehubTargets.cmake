# carehub_library(NAME SOURCES ... DEPS ...): one component = one static library.
function(carehub_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC carehub_options ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(CAREHUB_UNITY STREQUAL "all")
    carehub_unity(${name})
  endif()
endfunction()

# carehub_unity(NAME), as CAREHUB_UNITY asks (cmake/CarehubOptions.cmake): the target's sources compile in
# batches, one translation unit each, so the headers every file includes (nlohmann/json, CLI11,
# GoogleTest) are parsed and their inline code generated once per batch instead of once per file.
function(carehub_unity name)
  set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
  # GCC takes a batch's .cpp files for headers, and a type of one with a member from its anonymous
  # namespace (the pimpl of mqtt/transport.cpp) for a header's type leaking one: not so here.
  target_compile_options(${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
endfunction()

# carehub_alone(GLOB ...): these sources (globs relative to the calling CMakeLists.txt) compile on their own,
# never in a unity batch: a name local to one of them (in an anonymous namespace) is also defined by a
# sibling. A glob, so a new file in such a folder (daemon/commands/) is alone from its first build.
function(carehub_alone)
  foreach(pattern ${ARGN})
    file(GLOB files CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${pattern})
    set_source_files_properties(${files} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endforeach()
endfunction()

# carehub_test(NAME SOURCES ... DEPS ... [LABELS ...] [PREFIX p.]): a GoogleTest executable registered with
# CTest; PREFIX goes before each test name so `ctest -R p` selects the file's tests.
function(carehub_test name)
  cmake_parse_arguments(ARG "" "PREFIX" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE carehub_options ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(CAREHUB_PCH)
    target_precompile_headers(${name} REUSE_FROM carehub_test_pch)
  endif()
  if(CAREHUB_UNITY STREQUAL "all" OR CAREHUB_UNITY STREQUAL "tests")
    carehub_unity(${name})
  endif()
  set(discover ${name} DISCOVERY_MODE PRE_TEST)
  if(ARG_PREFIX)
    list(APPEND discover TEST_PREFIX "${ARG_PREFIX}")
  endif()
  if(ARG_LABELS)
    list(APPEND discover PROPERTIES LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${discover})
endfunction()

# carehub_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target, built only with CAREHUB_FUZZ=ON and clang.
# Seed corpus lives in tests/fuzz/corpus/NAME; a short CTest run replays it and fuzzes briefly.
function(carehub_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT CAREHUB_FUZZ)
    return()
  endif()
  if(NOT TARGET carehub_fuzzers)
    add_custom_target(carehub_fuzzers)  # builds every fuzz target and nothing else
  endif()
  add_executable(${name} ${ARG_SOURCES})
  add_dependencies(carehub_fuzzers ${name})
  target_link_libraries(${name} PRIVATE carehub_options ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  # New inputs go to a scratch folder in the build tree; the committed seed corpus is only read.
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME fuzz.${name}
    COMMAND ${name} -max_total_time=${CAREHUB_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
            ${work} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz)
endfunction()
