# nsa_add_program(<Name>
#   SOURCES <Name>.cxx ...
#   [LIBRARIES lib...]
#   [XML <file>]            defaults to <Name>.xml beside the sources
#   [INSTALL])              install into the Slicer module folder
#
# A program is also a 3D Slicer CLI module. Its parameters are described once, in a
# Slicer execution-model XML file; the XML is embedded in the executable at build time as
# the constant <Name>XMLDescription (header "<Name>XML.h"), drives the argument parser of
# NSACommandLine, and is installed next to the program. The function registers CTest tests
# that every program gets for free: --xml validates against ModuleDescription.xsd,
# --help and --version exit 0.
function(nsa_add_program name)
  cmake_parse_arguments(arg "INSTALL" "XML" "SOURCES;LIBRARIES" ${ARGN})
  if(name MATCHES "\\.")
    message(FATAL_ERROR "Program name '${name}' contains a '.', Slicer would not discover it")
  endif()
  if(NOT arg_XML)
    set(arg_XML "${CMAKE_CURRENT_SOURCE_DIR}/${name}.xml")
  endif()
  if(NOT EXISTS "${arg_XML}")
    message(FATAL_ERROR "nsa_add_program(${name}): description ${arg_XML} not found")
  endif()

  # Embed the description; re-run the configuration when it changes.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_XML}")
  file(READ "${arg_XML}" NSA_PROGRAM_XML)
  if(NSA_PROGRAM_XML MATCHES "\\)nsaxml\"")
    message(FATAL_ERROR "${arg_XML} contains the raw-string delimiter )nsaxml\"")
  endif()
  set(NSA_PROGRAM_NAME "${name}")
  set(generated_dir "${CMAKE_CURRENT_BINARY_DIR}/${name}Generated")
  configure_file("${PROJECT_SOURCE_DIR}/CMake/NSAProgramXML.h.in" "${generated_dir}/${name}XML.h" @ONLY)

  add_executable(${name} ${arg_SOURCES})
  target_include_directories(${name} PRIVATE "${generated_dir}")
  target_link_libraries(${name} PRIVATE NSA::CommandLine ${arg_LIBRARIES})
  target_compile_options(${name} PRIVATE ${NSA_WARNING_FLAGS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
  configure_file("${arg_XML}" "${PROJECT_BINARY_DIR}/bin/${name}.xml" COPYONLY)

  if(arg_INSTALL)
    install(TARGETS ${name} RUNTIME DESTINATION "${NSA_PROGRAM_INSTALL_DIR}")
    install(FILES "${arg_XML}" DESTINATION "${NSA_PROGRAM_INSTALL_DIR}" RENAME "${name}.xml")
  endif()

  if(NSA_BUILD_TESTING)
    add_test(NAME ${name}.xml
      COMMAND ${CMAKE_COMMAND}
        -DPROGRAM=$<TARGET_FILE:${name}>
        -DXMLLINT=${NSA_XMLLINT}
        -DSCHEMA=${NSA_MODULE_DESCRIPTION_XSD}
        -DOUTPUT=${NSA_TEST_OUTPUT_DIR}/${name}.xml
        -P "${PROJECT_SOURCE_DIR}/CMake/NSACheckProgramXML.cmake")
    add_test(NAME ${name}.help COMMAND ${name} --help)
    add_test(NAME ${name}.version COMMAND ${name} --version)
    set_tests_properties(${name}.version PROPERTIES PASS_REGULAR_EXPRESSION "${PROJECT_VERSION}")
    set_tests_properties(${name}.xml ${name}.help ${name}.version PROPERTIES LABELS "program;cli")
  endif()
endfunction()
