# Installs the toolkit into a temporary prefix, builds Documentation/Examples/cxx against the
# installed package (find_package(NSAToolkit)) and runs the example on Colin27.
#
#   cmake -DBUILD_DIR=<toolkit build> -DSOURCE_DIR=<repository> -DWORK_DIR=<scratch folder>
#         -DINPUT=<image> -DBUILD_TYPE=Release -DC_COMPILER=<cc> -DCXX_COMPILER=<c++>
#         -P RunInstalledExample.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("$ ${ARGN}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (exit ${rc}): ${ARGN}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/lib/cmake/NSAToolkit/NSAToolkitConfig.cmake")
  message(FATAL_ERROR "the install wrote no NSAToolkitConfig.cmake")
endif()
# Only the installed prefix is searched for the toolkit: the build tree is not a package.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/Documentation/Examples/cxx" -B "${WORK_DIR}/build"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
  # The toolkit's own compilers, as a user of an installed build does (a sanitizer build's
  # libraries need the same compiler's runtime).
  "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" -j 2)
run("${WORK_DIR}/build/nsa_example_synthesis" "${INPUT}" "${WORK_DIR}/anomalous.nii.gz" "${WORK_DIR}/label.nii.gz" 7)
if(NOT last_output MATCHES "nsa_example_synthesis: [1-9][0-9]* of [0-9]+ patches blended")
  message(FATAL_ERROR "the example blended no patch")
endif()
foreach(file anomalous.nii.gz label.nii.gz)
  if(NOT EXISTS "${WORK_DIR}/${file}")
    message(FATAL_ERROR "the example did not write ${file}")
  endif()
endforeach()
