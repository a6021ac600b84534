#ifndef nsaPyModule_h
#define nsaPyModule_h

#include <pybind11/pybind11.h>

namespace nsa::python
{
/** Translates the toolkit's C++ exceptions into the Python exceptions of nsatoolkit.errors
 * (same messages): ParameterError (a ValueError), InputError (a ValueError), OutputError (an
 * OSError), Error (a RuntimeError; also itk::ExceptionObject, with its description). */
void
RegisterExceptionTranslator();

void
RegisterSynthesis(pybind11::module_ & module);
void
RegisterEvaluation(pybind11::module_ & module);
void
RegisterIO(pybind11::module_ & module);
} // namespace nsa::python

#endif
