#ifndef nsaMessageText_h
#define nsaMessageText_h

#include <cstddef>
#include <string>

namespace nsa
{

/** \file nsaMessageText.h
 * \brief Values as they appear in error messages, without any JSON: the parameter
 * structures' validators (nsaParameters.cxx) use these, so the synthesis filters and their
 * parameters link no JSON code (the way to an ITK module, Documentation/Architecture.md).
 */

/** Characters of a value or key quoted in a message; longer ones end in "…". */
constexpr std::size_t MessageCharacters = 80;

/** `value` with up to 15 significant digits ("0.1", "1e-12", "25"). */
std::string
FormatNumber(double value);

/** `text` cut to `characters` characters, with "…" when cut (never in the middle of a UTF-8
 * sequence). */
std::string
ShortenForMessage(const std::string & text, std::size_t characters = MessageCharacters);

} // namespace nsa

#endif
