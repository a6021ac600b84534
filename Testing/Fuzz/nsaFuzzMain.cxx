// libFuzzer entry point of one target (NSA_FUZZ_TARGET names it; Testing/Fuzz/CMakeLists.txt).

#include "nsaFuzzTargets.h"

#include <new>
#include <stdexcept>

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size)
{
  try
  {
    nsa::fuzz::NSA_FUZZ_TARGET(data, size);
  }
  catch (const std::bad_alloc &)
  {
    throw; // unbounded allocation: a finding
  }
  catch (...)
  {
    // A clean refusal (nsa::Error, itk::ExceptionObject, ...).
  }
  return 0;
}
