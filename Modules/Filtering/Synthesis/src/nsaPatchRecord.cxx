#include "nsaPatchRecord.h"

#include <nlohmann/json.hpp>

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

nlohmann::json
PatchRecord::ToJson() const
{
  nlohmann::json object;
  object["index"] = index;
  object["status"] = PatchStatusName(status);
  if (status == PatchStatus::NotDrawn)
  {
    return object;
  }
  object["half_width_fraction"] = half_width_fraction;
  object["source_index"] = source_index;
  object["source_size"] = source_size;
  object["destination_index"] = destination_index;
  object["destination_size"] = destination_size;
  object["scale_drawn"] = scale_drawn;
  object["scale"] = scale;
  object["interpolation_factor"] = interpolation_factor;
  object["source_attempts"] = source_attempts;
  object["destination_attempts"] = destination_attempts;
  object["source_object_fraction"] = source_object_fraction;
  object["overlap_fraction"] = overlap_fraction;
  object["blended_voxels"] = blended_voxels;
  return object;
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
  nlohmann::json object;
  object["stream_key"] = stream_key;
  object["blend_mode"] = ToString(blend_mode);
  object["label_mode"] = ToString(label_mode);
  object["patch_rule"] = ToString(patch_rule);
  object["interpolation_factor"] = interpolation_factor;
  object["label_intensity_scale"] = label_intensity_scale;
  object["blended_patches"] = this->NumberOfBlendedPatches();
  nlohmann::json list = nlohmann::json::array();
  for (const auto & patch : patches)
  {
    list.push_back(patch.ToJson());
  }
  object["patches"] = list;
  return object;
}

} // namespace nsa
