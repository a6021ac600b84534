# Checks what an NSAPredict run wrote.
#   cmake -DMODE=mood -DFOLDER=<output folder> -DNAMES=a;b -P CheckPredictOutputs.cmake
#     every <name>.nii.gz exists and <name>.nii.gz.txt holds one number in [0, 1]
if(MODE STREQUAL "mood")
  foreach(name IN LISTS NAMES)
    if(NOT EXISTS "${FOLDER}/${name}.nii.gz")
      message(FATAL_ERROR "missing ${FOLDER}/${name}.nii.gz")
    endif()
    file(READ "${FOLDER}/${name}.nii.gz.txt" score)
    string(STRIP "${score}" score)
    if(NOT score MATCHES "^(0|1)(\\.[0-9]+)?(e-[0-9]+)?$")
      message(FATAL_ERROR "${FOLDER}/${name}.nii.gz.txt holds '${score}', not a score in [0, 1]")
    endif()
    message(STATUS "${name}: case score ${score}")
  endforeach()
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
