#include "nsaMessageText.h"

#include <sstream>

namespace nsa
{

std::string
FormatNumber(double value)
{
  std::ostringstream stream;
  stream.precision(15);
  stream << value;
  return stream.str();
}

std::string
ShortenForMessage(const std::string & text, std::size_t characters)
{
  if (text.size() <= characters)
  {
    return text;
  }
  std::size_t cut = characters - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
  {
    --cut; // a UTF-8 continuation byte: back to the start of the character
  }
  return text.substr(0, cut) + "\xe2\x80\xa6";
}

} // namespace nsa
