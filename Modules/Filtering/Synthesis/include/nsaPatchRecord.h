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

  nlohmann::json
  ToJson() const;
};

} // namespace nsa

#endif
