#ifndef nsaJsonText_h
#define nsaJsonText_h

#include "nsaMessageText.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace nsa
{

/** \brief Bounds on JSON text read from files the user did not necessarily write
 * (parameters, presets, model descriptions, partial evaluation results).
 *
 * nlohmann::json parses iteratively, but copying and printing a value recurse once per level,
 * so a 200 KB file nested 10^5 deep would overflow the stack later. The limits are checked
 * while parsing, before the value is built (Documentation/HostileInput.md).
 */
struct JsonLimits
{
  /** Arrays and objects nested deeper than this are refused (the toolkit's own files nest
   * at most 4 deep). */
  static constexpr int MaxDepth = 256;
  /** Characters of a value or key quoted in a message (nsaMessageText.h). */
  static constexpr std::size_t MessageCharacters = nsa::MessageCharacters;
};

/** Parses JSON text and refuses, with nsa::InputError starting with `context` (usually
 * "'<file>'"): invalid JSON, nesting deeper than JsonLimits::MaxDepth, a key repeated in one
 * object (naming the key), and numbers outside the range of a double (naming the key). */
nlohmann::json
ParseJsonText(const std::string & text, const std::string & context);

} // namespace nsa

#endif
