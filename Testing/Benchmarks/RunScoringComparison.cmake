# Scores one held-out subject with an already trained model twice, with the model's own
# prediction settings ("new") and with OLD_ARGS overriding them ("old"), and requires the new
# scoring to beat the old one on the metrics in METRICS (compare_results.py).
# Variables: PYTHON, SCRIPT, COMPARE, RECIPE, MODEL, FOLD, WORK, ARGS (a CMake list of the
# script's arguments), OLD_ARGS (NSAPredict flags, one string), METRICS.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/models")
file(COPY_FILE "${MODEL}" "${WORK}/models/${FOLD}.pt")
foreach(side new old)
  set(extra "")
  if(side STREQUAL "old")
    set(extra "--predict_args=${OLD_ARGS}")
  endif()
  execute_process(COMMAND "${PYTHON}" "${SCRIPT}" ${ARGS} --recipe "${RECIPE}" --folds "${FOLD}"
                          --models "${WORK}/models" --output "${WORK}/${side}" ${extra}
                  RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "brain_cross_subject.py failed for the ${side} scoring (${result})")
  endif()
endforeach()
execute_process(COMMAND "${PYTHON}" "${COMPARE}" "${WORK}/new/results.json" "${WORK}/old/results.json"
                        --metrics "${METRICS}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the model's own scoring does not beat '${OLD_ARGS}' on ${METRICS}")
endif()
