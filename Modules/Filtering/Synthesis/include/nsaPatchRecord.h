#ifndef nsaPatchRecord_h
#define nsaPatchRecord_h

#include "nsaModes.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nsa
{

/** What became of one patch of a synthesised sample. */
enum class PatchStatus
{
  Blended,              ///< placed and blended
  NotDrawn,             ///< the coin flip for this patch (index > 0) came up tails
  NoSourceLocation,     ///< no source box with enough object in max_attempts tries
  SourceObjectTooSmall, ///< after resizing, the source patch holds too little object (min_object)
  NoDestinationLocation,///< no destination box with enough object overlap in max_attempts tries
  EmptyBlendMask        ///< the blend mask (patch shape and objects, minus its border for Poisson) was empty
};

/** The JSON / documentation name of a status ("blended", "no-source-location", ...). */
const char *
PatchStatusName(PatchStatus status);

/** \class PatchRecord
 * \brief Everything the NSA filter decided for one patch, for inspection, tests and the JSON
 * record of NSASynthesize. Boxes are index regions (start, size), axes in ITK order (x, y, z).
 * \ingroup NSASynthesis
 */
struct PatchRecord
{
  unsigned int              index = 0;
  PatchStatus               status = PatchStatus::NotDrawn;
  /** Half-widths drawn, as fractions of the destination extent per axis, before clipping to
   * width_bounds (gamma rule: gamma_lower + Gamma draw; cutpaste rule: half the drawn width). */
  std::vector<double>       half_width_fraction;
  std::vector<std::int64_t> source_index;
  std::vector<std::int64_t> source_size;
  std::vector<std::int64_t> destination_index;
  std::vector<std::int64_t> destination_size;
  /** Resize factor drawn from Normal(1, resize_sigma), before any clipping (1 when resize is off). */
  double                    scale_drawn = 1.0;
  /** Resize factor after clipping to resize_bounds and width_bounds (physical size ratio
   * destination / source patch, along the first axis). */
  double                    scale = 1.0;
  /** Blend interpolation factor (uniform and poisson-uniform blends; 1 otherwise). */
  double                    interpolation_factor = 1.0;
  int                       source_attempts = 0;
  int                       destination_attempts = 0;
  /** Object fraction of the accepted (or last tried) source box; 1 without object masks. */
  double                    source_object_fraction = 1.0;
  /** Fraction of the source object that lands on destination object; 1 without object masks. */
  double                    overlap_fraction = 1.0;
  /** Voxels that the patch changed (the label mask of this patch, before median cleaning). */
  std::int64_t              blended_voxels = 0;

  /** Calls visitor(key, value) for each field, in the record's order, with the field's own
   * type (the status as its name): the one list of the record's keys, which ToJson() and
   * the Python binding's dict follow. A patch that was not drawn lists index and status only. */
  template <typename TVisitor>
  void
  Visit(TVisitor && visitor) const
  {
    visitor("index", index);
    visitor("status", PatchStatusName(status));
    if (status == PatchStatus::NotDrawn)
    {
      return;
    }
    visitor("half_width_fraction", half_width_fraction);
    visitor("source_index", source_index);
    visitor("source_size", source_size);
    visitor("destination_index", destination_index);
    visitor("destination_size", destination_size);
    visitor("scale_drawn", scale_drawn);
    visitor("scale", scale);
    visitor("interpolation_factor", interpolation_factor);
    visitor("source_attempts", source_attempts);
    visitor("destination_attempts", destination_attempts);
    visitor("source_object_fraction", source_object_fraction);
    visitor("overlap_fraction", overlap_fraction);
    visitor("blended_voxels", blended_voxels);
  }

  nlohmann::json
  ToJson() const;
};

/** \class SynthesisRecord
 * \brief The record of one synthesised sample: the random stream it used, the modes, the
 * label normalisation and one PatchRecord per patch slot (num_patches entries).
 * \ingroup NSASynthesis
 */
struct SynthesisRecord
{
  std::uint64_t            stream_key = 0;
  BlendMode                blend_mode = BlendMode::PoissonMixed;
  LabelMode                label_mode = LabelMode::LogisticIntensity;
  PatchRule                patch_rule = PatchRule::Gamma;
  double                   interpolation_factor = 1.0;
  /** Image units per normalised unit used for label_tolerance, logistic_k, logistic_x0. */
  double                   label_intensity_scale = 1.0;
  std::vector<PatchRecord> patches;

  /** Number of patches with status Blended. */
  unsigned int
  NumberOfBlendedPatches() const;

  /** As PatchRecord::Visit; the modes come as their names, `patches` as the vector of
   * PatchRecord (a visitor visits each in turn). */
  template <typename TVisitor>
  void
  Visit(TVisitor && visitor) const
  {
    visitor("stream_key", stream_key);
    visitor("blend_mode", ToString(blend_mode));
    visitor("label_mode", ToString(label_mode));
    visitor("patch_rule", ToString(patch_rule));
    visitor("interpolation_factor", interpolation_factor);
    visitor("label_intensity_scale", label_intensity_scale);
    visitor("blended_patches", this->NumberOfBlendedPatches());
    visitor("patches", patches);
  }

  nlohmann::json
  ToJson() const;
};

} // namespace nsa

#endif
