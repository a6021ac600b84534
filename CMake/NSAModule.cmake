# nsa_add_module(<Name>
#   [PUBLIC_LIBRARIES lib...]    libraries that public headers expose
#   [PRIVATE_LIBRARIES lib...]   libraries used only by the module's sources
#   [TEST_LIBRARIES lib...]      extra libraries of the module's GoogleTest executable
#   [TEST_LABELS label...])
#
# One library target NSA<Name> per module, built from src/*.cxx, with include/ as its public
# include directory, and one GoogleTest executable NSA<Name>GTest built from test/*.cxx and
# registered in CTest. Files are globbed (CONFIGURE_DEPENDS) so that adding a source file
# needs no edit here.
function(nsa_add_module name)
  cmake_parse_arguments(arg "" "" "PUBLIC_LIBRARIES;PRIVATE_LIBRARIES;TEST_LIBRARIES;TEST_LABELS" ${ARGN})
  set(target NSA${name})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.cxx")
  file(GLOB headers CONFIGURE_DEPENDS
    "${CMAKE_CURRENT_SOURCE_DIR}/include/*.h" "${CMAKE_CURRENT_SOURCE_DIR}/include/*.hxx")
  if(sources)
    add_library(${target} ${sources} ${headers})
    target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include/NSAToolkit>)
    target_link_libraries(${target} PUBLIC ${arg_PUBLIC_LIBRARIES} PRIVATE ${arg_PRIVATE_LIBRARIES})
    target_compile_options(${target} PRIVATE ${NSA_WARNING_FLAGS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include/NSAToolkit>)
    target_link_libraries(${target} INTERFACE ${arg_PUBLIC_LIBRARIES})
  endif()
  add_library(NSA::${name} ALIAS ${target})
  if(NSA_SANITIZE AND sources)
    # An instrumented library needs the sanitizer runtime wherever it is linked, also in a
    # project that uses the installed toolkit: the link option travels with the target.
    target_link_options(${target} INTERFACE "-fsanitize=${NSA_SANITIZE}")
  endif()
  install(TARGETS ${target} EXPORT NSAToolkitTargets
    LIBRARY DESTINATION lib ARCHIVE DESTINATION lib RUNTIME DESTINATION bin)
  install(FILES ${headers} DESTINATION include/NSAToolkit)

  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/test/*.cxx")
  if(NSA_BUILD_TESTING AND tests)
    set(test_target ${target}GTest)
    add_executable(${test_target} ${tests})
    target_link_libraries(${test_target} PRIVATE ${target} ${arg_TEST_LIBRARIES} GTest::gtest_main)
    target_compile_options(${test_target} PRIVATE ${NSA_WARNING_FLAGS})
    target_compile_definitions(${test_target} PRIVATE
      NSA_DATA_DIR="${NSA_DATA_DIR}"
      NSA_TEST_OUTPUT_DIR="${NSA_TEST_OUTPUT_DIR}"
      NSA_EXTERNAL_DATA_DIR="${NSA_EXTERNAL_DATA_DIR}"
      NSA_NPM_DATA_DIR="${NSA_NPM_DATA_DIR}")
    # PRE_TEST: listing the tests at build time would start every LibTorch executable once
    # more during the build. A minute to list them: loading LibTorch on a busy 2-core machine
    # took longer than CMake's default 5 s, and a timed-out listing fails the whole ctest run.
    gtest_discover_tests(${test_target}
      DISCOVERY_MODE PRE_TEST
      DISCOVERY_TIMEOUT 60
      TEST_PREFIX "${name}."
      PROPERTIES LABELS "${name};unit;${arg_TEST_LABELS}")
  endif()
endfunction()
