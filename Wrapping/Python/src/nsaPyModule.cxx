#include "nsaPyModule.h"

#include "nsaError.h"
#include "nsaPreset.h"

#include "itkMacro.h"

namespace py = pybind11;

namespace nsa::python
{

namespace
{

void
Raise(const char * name, const std::string & message)
{
  const py::object type = py::module_::import("nsatoolkit.errors").attr(name);
  PyErr_SetString(type.ptr(), message.c_str());
}

/** The description part of an ITK exception (its what() starts with file and line). */
std::string
ItkDescription(const itk::ExceptionObject & error)
{
  const char * description = error.GetDescription();
  return description && *description ? description : error.what();
}

} // namespace

void
RegisterExceptionTranslator()
{
  py::register_exception_translator([](std::exception_ptr pointer) {
    if (!pointer)
    {
      return;
    }
    try
    {
      std::rethrow_exception(pointer);
    }
    catch (const nsa::ParameterError & error)
    {
      Raise("ParameterError", error.what());
    }
    catch (const nsa::InputError & error)
    {
      Raise("InputError", error.what());
    }
    catch (const nsa::OutputError & error)
    {
      Raise("OutputError", error.what());
    }
    catch (const nsa::Error & error)
    {
      Raise("Error", error.what());
    }
    catch (const itk::ExceptionObject & error)
    {
      Raise("Error", ItkDescription(error));
    }
    catch (const std::exception & error)
    {
      // LibTorch's c10::Error (its what() ends in a stack dump): the message alone. Other
      // exceptions go on to pybind11's own translation (ValueError, MemoryError, ...).
      const std::string message = UserMessage(error);
      if (message.size() == std::string(error.what()).size())
      {
        throw;
      }
      Raise("Error", message);
    }
  });
}

} // namespace nsa::python

#ifndef NSA_PYTHON_LEARNING_ONLY
PYBIND11_MODULE(_nsatoolkit, module)
{
  module.doc() = "NSA Toolkit: Natural Synthetic Anomalies for medical images (C++ core)";
  module.attr("__version__") = nsa::Version();
  nsa::python::RegisterExceptionTranslator();
  nsa::python::RegisterSynthesis(module);
  nsa::python::RegisterEvaluation(module);
  nsa::python::RegisterIO(module);
}
#endif
