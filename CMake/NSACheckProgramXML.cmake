# Runs PROGRAM --xml, checks that the description comes first on stdout (nothing before
# it), and validates it against the Slicer execution-model schema with xmllint.
execute_process(COMMAND "${PROGRAM}" --xml
  OUTPUT_VARIABLE xml ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --xml exited with ${rc}: ${err}")
endif()
string(FIND "${xml}" "<?xml" start)
if(NOT start EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --xml printed something before the XML declaration")
endif()
file(WRITE "${OUTPUT}" "${xml}")
if(NOT XMLLINT)
  message(FATAL_ERROR "xmllint not found (Debian package libxml2-utils); run Utilities/setup.sh")
endif()
if(EXISTS "${SCHEMA}")
  # The schema as given (it follows Slicer's own parser: enumerations list any number of
  # choices); nothing is rewritten.
  execute_process(COMMAND "${XMLLINT}" --noout --schema "${SCHEMA}" "${OUTPUT}"
    RESULT_VARIABLE rc ERROR_VARIABLE out)
else()
  message(WARNING "Schema ${SCHEMA} not found: checking well-formedness only")
  execute_process(COMMAND "${XMLLINT}" --noout "${OUTPUT}" RESULT_VARIABLE rc ERROR_VARIABLE out)
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OUTPUT} is not a valid module description:\n${out}")
endif()
message(STATUS "${OUTPUT}: ${out}")
