#include "nsaJsonText.h"

#include "nsaError.h"

#include <set>
#include <vector>

namespace nsa
{

nlohmann::json
ParseJsonText(const std::string & text, const std::string & context)
{
  // Keys seen in each open object (arrays hold an empty set that is never used).
  std::vector<std::set<std::string>> open;
  std::string                        lastKey;
  const auto                         keyForMessage = [&lastKey]() {
    return lastKey.empty() ? std::string() : " at key '" + ShortenForMessage(lastKey) + "'";
  };
  const nlohmann::json::parser_callback_t check =
    [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json & parsed) {
      switch (event)
      {
        case nlohmann::json::parse_event_t::object_start:
        case nlohmann::json::parse_event_t::array_start:
          if (depth >= JsonLimits::MaxDepth)
          {
            throw InputError(context + ": JSON nested deeper than " + std::to_string(JsonLimits::MaxDepth) +
                             " levels" + keyForMessage() + " (limit)");
          }
          open.emplace_back();
          break;
        case nlohmann::json::parse_event_t::key:
          lastKey = parsed.get<std::string>();
          if (!open.empty() && !open.back().insert(lastKey).second)
          {
            throw InputError(context + ": key '" + ShortenForMessage(lastKey) +
                             "' appears twice in one object (which one is meant?)");
          }
          break;
        case nlohmann::json::parse_event_t::object_end:
        case nlohmann::json::parse_event_t::array_end:
          if (!open.empty())
          {
            open.pop_back();
          }
          break;
        case nlohmann::json::parse_event_t::value:
          break;
      }
      return true;
    };
  try
  {
    return nlohmann::json::parse(text, check);
  }
  catch (const nlohmann::json::exception & error) // parse_error, or out_of_range 406 for 1e400
  {
    const std::string what = error.what();
    if (error.id == 406 || what.find("number overflow") != std::string::npos)
    {
      throw InputError(context + ": a number" + keyForMessage() + " is out of the range of a double");
    }
    throw InputError(context + " is not valid JSON: " + ShortenForMessage(what, 200));
  }
}

} // namespace nsa
