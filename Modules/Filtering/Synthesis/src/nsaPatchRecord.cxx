#include "nsaPatchRecord.h"

#include <nlohmann/json.hpp>

#include <type_traits>

namespace nsa
{

const char *
PatchStatusName(PatchStatus status)
{
  switch (status)
  {
    case PatchStatus::Blended:
      return "blended";
    case PatchStatus::NotDrawn:
      return "not-drawn";
    case PatchStatus::NoSourceLocation:
      return "no-source-location";
    case PatchStatus::SourceObjectTooSmall:
      return "source-object-too-small";
    case PatchStatus::NoDestinationLocation:
      return "no-destination-location";
    case PatchStatus::EmptyBlendMask:
      return "empty-blend-mask";
  }
  return "unknown";
}

namespace
{

/** A record as a JSON object, key by key from its Visit(). */
template <typename TRecord>
nlohmann::json
RecordToJson(const TRecord & record)
{
  nlohmann::json object = nlohmann::json::object();
  record.Visit([&object](const char * key, const auto & value) {
    using ValueType = std::decay_t<decltype(value)>;
    if constexpr (std::is_same<ValueType, std::vector<PatchRecord>>::value)
    {
      nlohmann::json list = nlohmann::json::array();
      for (const auto & patch : value)
      {
        list.push_back(RecordToJson(patch));
      }
      object[key] = std::move(list);
    }
    else
    {
      object[key] = value;
    }
  });
  return object;
}

} // namespace

nlohmann::json
PatchRecord::ToJson() const
{
  return RecordToJson(*this);
}

unsigned int
SynthesisRecord::NumberOfBlendedPatches() const
{
  unsigned int count = 0;
  for (const auto & patch : patches)
  {
    count += patch.status == PatchStatus::Blended ? 1 : 0;
  }
  return count;
}

nlohmann::json
SynthesisRecord::ToJson() const
{
  return RecordToJson(*this);
}

} // namespace nsa
