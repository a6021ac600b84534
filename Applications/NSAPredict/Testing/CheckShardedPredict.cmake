# NSAPredict --shard k/n over a folder of studies: shard 0/2 writes only the first study's
# outputs, and the two shards together write files identical to one unsharded run.
#   cmake -DNSAPREDICT=... -DMODEL=... -DINPUT=<folder> -DOUTPUT=<folder> -DREFERENCE=<unsharded output> -P
file(REMOVE_RECURSE "${OUTPUT}")
execute_process(COMMAND "${NSAPREDICT}" "${MODEL}" "${INPUT}" "${OUTPUT}" --shard 0/2 --threads 2
  RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "shard 0/2 failed: ${result}")
endif()
file(GLOB written RELATIVE "${OUTPUT}" "${OUTPUT}/*")
list(SORT written)
if(NOT written STREQUAL "caseA.nii.gz;caseA.nii.gz.txt")
  message(FATAL_ERROR "shard 0/2 wrote '${written}', expected caseA.nii.gz;caseA.nii.gz.txt")
endif()
execute_process(COMMAND "${NSAPREDICT}" "${MODEL}" "${INPUT}" "${OUTPUT}" --shard 1/2 --threads 2
  RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "shard 1/2 failed: ${result}")
endif()
foreach(file caseA.nii.gz caseA.nii.gz.txt caseB.nii.gz caseB.nii.gz.txt)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUTPUT}/${file}" "${REFERENCE}/${file}"
    RESULT_VARIABLE different)
  if(different)
    message(FATAL_ERROR "${file} of the shards differs from the unsharded run's")
  endif()
endforeach()
message(STATUS "2 shards wrote the files of one unsharded run")
