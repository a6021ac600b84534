# Runs brain_cross_subject.py with an old and a new recipe on the same split and checks that
# the new one wins (check_recipe_beats.py). Variables: PYTHON, SCRIPT, CHECK, OLD, NEW, WORK,
# ARGS (a CMake list of the benchmark's arguments).
foreach(recipe old new)
  if(recipe STREQUAL "old")
    set(preset "${OLD}")
  else()
    set(preset "${NEW}")
  endif()
  execute_process(
    COMMAND "${PYTHON}" "${SCRIPT}" ${ARGS} --recipe "${preset}" --output "${WORK}/${recipe}"
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "the benchmark with the ${recipe} recipe failed (${result})")
  endif()
endforeach()
execute_process(
  COMMAND "${PYTHON}" "${CHECK}" "${WORK}/new/results.json" "${WORK}/old/results.json"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the new recipe does not beat the old one on the small split")
endif()
