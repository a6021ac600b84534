# Validates every .dcm file of a folder with dciodvfy (Debian package dicom3tools) and fails on
# any "Error" line (warnings are printed and accepted), or when the folder does not hold
# EXPECTED_FILES files.
#
#   cmake -DDCIODVFY=/usr/bin/dciodvfy -DFOLDER=series/ [-DEXPECTED_FILES=N] -P CheckDicomFolder.cmake
if(NOT DCIODVFY OR NOT EXISTS "${DCIODVFY}")
  message(FATAL_ERROR "dciodvfy not found (install the Debian package dicom3tools)")
endif()
file(GLOB files "${FOLDER}/*.dcm")
list(LENGTH files count)
if(count EQUAL 0 OR (DEFINED EXPECTED_FILES AND NOT count EQUAL EXPECTED_FILES))
  message(FATAL_ERROR "'${FOLDER}' holds ${count} .dcm files, expected ${EXPECTED_FILES}")
endif()
set(errors 0)
foreach(file IN LISTS files)
  execute_process(COMMAND "${DCIODVFY}" "${file}" OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE "\n" ";" lines "${out}${err}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^Error")
      math(EXPR errors "${errors} + 1")
      message("${file}: ${line}")
    endif()
  endforeach()
endforeach()
message("dciodvfy: ${count} files, ${errors} errors")
if(errors GREATER 0)
  message(FATAL_ERROR "dciodvfy found ${errors} errors in ${FOLDER}")
endif()
