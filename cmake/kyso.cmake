# kyso_module(NAME SRCS ... DEPS ...) declares the static library kyso_NAME with the sources of
# one folder under src/kyso and the only targets it may link. A dependency not named here
# fails to link, which keeps the layering of DESIGN.md honest.
set(KYSO_WARNINGS -Wall -Wextra -Wconversion -Wshadow -Wno-sign-conversion
    -Wno-missing-field-initializers)  # aggregates rely on default member initializers
if(KYSO_WERROR)
  list(APPEND KYSO_WARNINGS -Werror)
  # GCC 12 at -O3 reports impossible sizes inside libstdc++'s own string and vector code
  # (GCC bugs 105329, 105651): kept as warnings, not errors, so a Release build still builds.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    list(APPEND KYSO_WARNINGS -Wno-error=restrict -Wno-error=stringop-overread
         -Wno-error=stringop-overflow -Wno-error=array-bounds)
  endif()
endif()

function(kyso_module name)
  cmake_parse_arguments(M "" "" "SRCS;DEPS" ${ARGN})
  add_library(kyso_${name} STATIC ${M_SRCS})
  target_include_directories(kyso_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(kyso_${name} PRIVATE ${KYSO_WARNINGS})
  target_link_libraries(kyso_${name} PUBLIC ${M_DEPS})
endfunction()

# kyso_test(NAME SRCS ... DEPS ...) builds one gtest binary per module, labelled `unit`, and
# registers every test with CTest so that `ctest -R R10_1` runs exactly the tests of a rule.
function(kyso_test name)
  cmake_parse_arguments(T "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name}_test ${T_SRCS})
  target_compile_options(${name}_test PRIVATE ${KYSO_WARNINGS})
  target_link_libraries(${name}_test PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    KYSO_SOURCE_DIR="${PROJECT_SOURCE_DIR}" KYSO_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  # One label per binary: gtest_discover_tests in CMake 3.25 splits a list of labels apart.
  gtest_discover_tests(${name}_test PROPERTIES LABELS ${T_LABELS} DISCOVERY_TIMEOUT 30)
endfunction()
