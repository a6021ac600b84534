# Runs brain_cross_subject.py on a small split and checks its results.json.
# Variables: PYTHON, SCRIPT, CHECK, RECIPE, WORK, ARGS (a CMake list of the script's arguments).
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" ${ARGS} --recipe "${RECIPE}" --output "${WORK}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "brain_cross_subject.py failed (${result})")
endif()
execute_process(COMMAND "${PYTHON}" "${CHECK}" "${WORK}/results.json" --folds brainsmall --cases 14
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the benchmark's results are incomplete or out of range")
endif()
