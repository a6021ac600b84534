file(REMOVE "${OUT}/echo.txt" "${OUT}/return.txt")
execute_process(
  COMMAND "${PROGRAM}" --num_patches 5 --shift --width_bounds 0.1,0.2 --crop 3,4
          --blend_mode swap --returnparameterfile "${OUT}/return.txt"
          --processinformationaddress 0x000012345678 in.nii.gz "${OUT}/echo.txt"
  OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit ${rc}: ${stderr}")
endif()
file(READ "${OUT}/echo.txt" echo)
foreach(expected "inputVolume = in.nii.gz" "num_patches = 5" "shift = true" "width_bounds = 0.1 0.2"
                 "crop = 3 4" "blend_mode = swap" "min_overlap = 0.25" "preset = unset")
  string(FIND "${echo}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "'${expected}' not in output:\n${echo}")
  endif()
endforeach()
file(READ "${OUT}/return.txt" returned)
if(NOT returned MATCHES "^sumOfBounds = 0.3[0-9]*\n$")
  message(FATAL_ERROR "unexpected return parameter file:\n${returned}")
endif()
# Slicer's progress protocol on stdout (not a terminal here).
foreach(tag "<filter-start>" "<filter-progress>0.250</filter-progress>" "<filter-progress>1.000</filter-progress>"
            "<filter-end>")
  string(FIND "${stdout}" "${tag}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "'${tag}' not on stdout:\n${stdout}")
  endif()
endforeach()
