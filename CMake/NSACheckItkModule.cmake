# Configures, builds and tests Modules/Filtering/Synthesis alone, as the ITK module
# NSASynthesis (the test Synthesis.BuildsAndPassesItsTestsAsAnItkModule).
#
#   cmake -DSOURCE_DIR=<module> -DBINARY_DIR=<build> -DITK_DIR=<ITK config> \
#         -DNSA_ITK_CMAKE_DIR=<ITK's CMake/> [-DLAUNCHER=ccache] -P NSACheckItkModule.cmake
foreach(variable SOURCE_DIR BINARY_DIR ITK_DIR NSA_ITK_CMAKE_DIR)
  if(NOT ${variable})
    message(FATAL_ERROR "NSACheckItkModule.cmake: ${variable} is not set")
  endif()
endforeach()
if(NOT EXISTS "${NSA_ITK_CMAKE_DIR}/ITKModuleMacros.cmake")
  message(FATAL_ERROR "ITK's module macros are not in ${NSA_ITK_CMAKE_DIR}: run Utilities/setup.sh, "
                      "which takes them from Debian's source package of ITK")
endif()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    string(LENGTH "${output}" length)
    if(length GREATER 6000)
      math(EXPR start "${length} - 6000")
      string(SUBSTRING "${output}" ${start} 6000 output)
    endif()
    message(FATAL_ERROR "NSASynthesis as an ITK module: ${step} failed (${result}):\n${output}")
  endif()
  message(STATUS "NSASynthesis as an ITK module: ${step} done")
endfunction()

set(launcher)
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
run(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -DCMAKE_BUILD_TYPE=Release
  -DBUILD_TESTING=ON "-DITK_DIR=${ITK_DIR}" "-DNSA_ITK_CMAKE_DIR=${NSA_ITK_CMAKE_DIR}" ${launcher})
run(build "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --parallel ${jobs})
run(tests "${CMAKE_CTEST_COMMAND}" --test-dir "${BINARY_DIR}" --output-on-failure --parallel ${jobs})
message(STATUS "NSASynthesis as an ITK module: configured, built and passed its tests in ${BINARY_DIR}")
