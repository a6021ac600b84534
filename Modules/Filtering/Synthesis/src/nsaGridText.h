#ifndef nsaGridText_h
#define nsaGridText_h

// Private to the Synthesis module: grid sizes in messages, shared by the DST and the solver.

#include <cstddef>
#include <string>
#include <vector>

namespace nsa
{
namespace detail
{

/** "128x96x4" */
inline std::string
SizeToString(const std::vector<std::size_t> & size)
{
  std::string text;
  for (std::size_t i = 0; i < size.size(); ++i)
  {
    text += (i ? "x" : "") + std::to_string(size[i]);
  }
  return text;
}

} // namespace detail
} // namespace nsa

#endif
