#ifndef nsaError_h
#define nsaError_h

#include <stdexcept>
#include <string>

namespace nsa
{

/** \class Error
 * \brief Base of the toolkit's exceptions: a message a user can act on.
 *
 * The message names the thing at fault (a file, a parameter, a key) and what was expected.
 * Programs print `what()` and exit non-zero (see nsa::RunProgram). ITK filters throw
 * itk::ExceptionObject instead, as ITK code does; programs report both the same way.
 */
class Error : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** A parameter, JSON key, preset or command-line argument is invalid. */
class ParameterError : public Error
{
public:
  using Error::Error;
};

/** An input (file, folder, image content such as NaN voxels or an empty mask) is unusable. */
class InputError : public Error
{
public:
  using Error::Error;
};

/** An output could not be written (unwritable folder, full disk, failed rename). */
class OutputError : public Error
{
public:
  using Error::Error;
};

/** The part of an exception's message meant for a user. LibTorch's c10::Error appends a
 * stack dump ("\nException raised from ... (most recent call first):\nframe #0 ...") to
 * what(); code that cannot include LibTorch (programs, Python bindings) cuts it here, and code
 * that can uses c10::Error::what_without_backtrace(). */
inline std::string
UserMessage(const std::exception & error)
{
  std::string message = error.what();
  const auto  at = message.find("\nException raised from ");
  if (at != std::string::npos)
  {
    message.resize(at);
  }
  return message;
}

} // namespace nsa

#endif
