#ifndef nsaModes_h
#define nsaModes_h

#include "nsaError.h"

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nsa
{

/** \file nsaModes.h
 * \brief Every mode of the toolkit as an enum, each with one name table.
 *
 * A mode is chosen from a fixed list (`blend_mode` "poisson-mixed", `case_score`
 * "top-k-mean", ...). Its text appears in JSON (presets, model files, records), on the
 * command line, in the programs' Slicer XML and in the documentation; inside the code it is an
 * `enum class`, converted once, where it is read. ModeTable<TEnum> holds the one name of each
 * value; ToString(), FromString() and operator<< go through it, and the parameter structures
 * (nsaParameters.h) take their lists of choices from it, so a mode has one name everywhere.
 *
 * The names are those of files written before the enums existed: they must not change, or
 * presets and model files would no longer read. This header needs the C++ standard library
 * only (the ITK filters include it; it has no JSON).
 */

/** A value and its name. */
template <typename TEnum>
struct ModeName
{
  TEnum        value;
  const char * name;
};

/** The name table of a mode enum: `What` (the setting's name in messages) and `Names`, one
 * entry per value in the documented order. Specialised below for every mode. */
template <typename TEnum>
struct ModeTable;

/** True for the enums that have a ModeTable. */
template <typename TEnum, typename = void>
struct IsMode : std::false_type
{};
template <typename TEnum>
struct IsMode<TEnum, std::void_t<decltype(ModeTable<TEnum>::Names)>> : std::true_type
{};

// ---- Synthesis (SynthesisParameters, the NSA filter, the patch sampler) ------------------

/** How a patch's size is drawn (`patch_rule`). */
enum class PatchRule : std::uint8_t
{
  Gamma,   ///< NSA: half-width = gamma_lower + Gamma(gamma_shape, gamma_scale) per axis
  CutPaste ///< CutPaste's area / aspect-ratio rule
};
template <>
struct ModeTable<PatchRule>
{
  static constexpr const char *                           What = "patch_rule";
  static constexpr std::array<ModeName<PatchRule>, 2> Names{ { { PatchRule::Gamma, "gamma" },
                                                                   { PatchRule::CutPaste, "cutpaste" } } };
};

/** The outline of a patch inside its box (`patch_shape`). */
enum class PatchShape : std::uint8_t
{
  Box,     ///< the full box
  Ellipses ///< a union of random ellipses (ellipsoids in 3D) inside the box
};
template <>
struct ModeTable<PatchShape>
{
  static constexpr const char *                            What = "patch_shape";
  static constexpr std::array<ModeName<PatchShape>, 2> Names{ { { PatchShape::Box, "box" },
                                                                    { PatchShape::Ellipses, "ellipses" } } };
};

/** Where the object is (`object_mask`). */
enum class ObjectMask : std::uint8_t
{
  None,       ///< no object mask
  Background, ///< |intensity - background_intensity| > background_tolerance (the paper)
  Threshold,  ///< intensity > object_threshold (e.g. HU for CT)
  Otsu,       ///< above Otsu's threshold of the image (MR, any scanner units)
  Image       ///< a mask image given with the image
};
template <>
struct ModeTable<ObjectMask>
{
  static constexpr const char *                            What = "object_mask";
  static constexpr std::array<ModeName<ObjectMask>, 5> Names{ { { ObjectMask::None, "none" },
                                                                    { ObjectMask::Background, "background" },
                                                                    { ObjectMask::Threshold, "threshold" },
                                                                    { ObjectMask::Otsu, "otsu" },
                                                                    { ObjectMask::Image, "image" } } };
};

/** How a patch is blended into the destination (`blend_mode`). */
enum class BlendMode : std::uint8_t
{
  PoissonSource, ///< Poisson image editing with the source's gradients
  PoissonMixed,  ///< Poisson image editing with the stronger of source and destination gradient
  Swap,          ///< plain paste (CutPaste-like)
  Uniform,       ///< convex interpolation with a random factor (FPI-like)
  PoissonUniform ///< Poisson image editing with interpolated gradients (FPI-Poisson)
};
template <>
struct ModeTable<BlendMode>
{
  static constexpr const char *                           What = "blend_mode";
  static constexpr std::array<ModeName<BlendMode>, 5> Names{ { { BlendMode::PoissonSource, "poisson-source" },
                                                                   { BlendMode::PoissonMixed, "poisson-mixed" },
                                                                   { BlendMode::Swap, "swap" },
                                                                   { BlendMode::Uniform, "uniform" },
                                                                   { BlendMode::PoissonUniform, "poisson-uniform" } } };
};

/** True for the blends that solve a Poisson equation. */
constexpr bool
IsPoissonBlend(BlendMode mode)
{
  return mode == BlendMode::PoissonSource || mode == BlendMode::PoissonMixed || mode == BlendMode::PoissonUniform;
}

/** True for the blends that use a random interpolation factor (FPI's). */
constexpr bool
IsInterpolatedBlend(BlendMode mode)
{
  return mode == BlendMode::Uniform || mode == BlendMode::PoissonUniform;
}

/** What a training label measures (`label_mode`; itk::SyntheticAnomalyLabelImageFilter). */
enum class LabelMode : std::uint8_t
{
  Binary,           ///< 1 where the image changed
  Continuous,       ///< the blend's interpolation factor where the image changed (FPI)
  Intensity,        ///< median-filtered mean absolute change
  LogisticIntensity ///< 1 / (1 + exp(-k (change - x0))) of the median-filtered change (NSA's best)
};
template <>
struct ModeTable<LabelMode>
{
  static constexpr const char *                           What = "label_mode";
  static constexpr std::array<ModeName<LabelMode>, 4> Names{ { { LabelMode::Binary, "binary" },
                                                                   { LabelMode::Continuous, "continuous" },
                                                                   { LabelMode::Intensity, "intensity" },
                                                                   { LabelMode::LogisticIntensity,
                                                                     "logistic-intensity" } } };
};

/** The guidance field of a Poisson blend (itk::PoissonBlendImageFilter; the Python
 * `poisson_blend(gradients=...)`): the `poisson-source` and `poisson-mixed` blends. */
enum class GradientMode : std::uint8_t
{
  Source, ///< the source's gradient (seamless cloning)
  Mixed   ///< per position the stronger of source and destination gradient
};
template <>
struct ModeTable<GradientMode>
{
  static constexpr const char *                              What = "gradients";
  static constexpr std::array<ModeName<GradientMode>, 2> Names{ { { GradientMode::Source, "source" },
                                                                      { GradientMode::Mixed, "mixed" } } };
};

/** The gradient mode of a Poisson blend mode (Mixed for poisson-mixed, Source otherwise). */
constexpr GradientMode
GradientModeOf(BlendMode mode)
{
  return mode == BlendMode::PoissonMixed ? GradientMode::Mixed : GradientMode::Source;
}

/** The domain of a Poisson solve (itk::PoissonBlendImageFilter; Python `formulation=`). */
enum class PoissonFormulation : std::uint8_t
{
  Exact, ///< on the mask itself, Dirichlet on its border; voxels outside untouched
  Box    ///< on the mask's bounding box, as OpenCV's seamlessClone
};
template <>
struct ModeTable<PoissonFormulation>
{
  static constexpr const char *                                    What = "formulation";
  static constexpr std::array<ModeName<PoissonFormulation>, 2> Names{ { { PoissonFormulation::Exact, "exact" },
                                                                            { PoissonFormulation::Box, "box" } } };
};

// ---- Normalisation ----------------------------------------------------------------------

/** How intensities are normalised for the network (`normalisation.mode`). */
enum class NormalisationMode : std::uint8_t
{
  None,       ///< as read
  Window,     ///< map [low, high] image units (a CT window)
  Percentile, ///< map percentiles of the foreground (MR robust scaling)
  MinMax      ///< map the image's range
};
template <>
struct ModeTable<NormalisationMode>
{
  static constexpr const char *                                   What = "mode";
  static constexpr std::array<ModeName<NormalisationMode>, 4> Names{ { { NormalisationMode::None, "none" },
                                                                           { NormalisationMode::Window, "window" },
                                                                           { NormalisationMode::Percentile,
                                                                             "percentile" },
                                                                           { NormalisationMode::MinMax, "minmax" } } };
};

// ---- Network, training, prediction --------------------------------------------------------

/** The network (`network.architecture`). */
enum class Architecture : std::uint8_t
{
  ResNet18EncDec ///< the NSA paper's ResNet-18 encoder-decoder without skip connections
};
template <>
struct ModeTable<Architecture>
{
  static constexpr const char *                              What = "architecture";
  static constexpr std::array<ModeName<Architecture>, 1> Names{ { { Architecture::ResNet18EncDec,
                                                                        "resnet18-enc-dec" } } };
};

/** The network's last layer (`network.output_activation`). */
enum class OutputActivation : std::uint8_t
{
  Sigmoid, ///< for BCE-trained models
  ReLU,    ///< for raw-intensity labels (MSE)
  Identity
};
template <>
struct ModeTable<OutputActivation>
{
  static constexpr const char *                                  What = "output_activation";
  static constexpr std::array<ModeName<OutputActivation>, 3> Names{ { { OutputActivation::Sigmoid, "sigmoid" },
                                                                          { OutputActivation::ReLU, "relu" },
                                                                          { OutputActivation::Identity,
                                                                            "identity" } } };
};

/** The training loss (`training.loss`). */
enum class Loss : std::uint8_t
{
  BCE, ///< binary cross-entropy, for binary and logistic labels
  MSE  ///< mean squared error, for raw intensity labels
};
template <>
struct ModeTable<Loss>
{
  static constexpr const char *                      What = "loss";
  static constexpr std::array<ModeName<Loss>, 2> Names{ { { Loss::BCE, "bce" }, { Loss::MSE, "mse" } } };
};

/** How a case score is made from a score map (`prediction.case_score`). */
enum class CaseScore : std::uint8_t
{
  Mean,       ///< the mean of the map (the paper)
  Percentile, ///< a high percentile (score_percentile)
  TopKMean    ///< the mean of the top_k_fraction highest voxels
};
template <>
struct ModeTable<CaseScore>
{
  static constexpr const char *                           What = "case_score";
  static constexpr std::array<ModeName<CaseScore>, 3> Names{ { { CaseScore::Mean, "mean" },
                                                                   { CaseScore::Percentile, "percentile" },
                                                                   { CaseScore::TopKMean, "top-k-mean" } } };
};

/** Where a score map counts (`prediction.score_mask`). */
enum class ScoreMask : std::uint8_t
{
  None, ///< everywhere
  Otsu  ///< inside the study's Otsu object mask
};
template <>
struct ModeTable<ScoreMask>
{
  static constexpr const char *                           What = "score_mask";
  static constexpr std::array<ModeName<ScoreMask>, 2> Names{ { { ScoreMask::None, "none" },
                                                                   { ScoreMask::Otsu, "otsu" } } };
};

// ---- Conversions ----------------------------------------------------------------------------

/** The name of a mode value (the text of JSON, flags and XML). */
template <typename TEnum, typename = std::enable_if_t<IsMode<TEnum>::value>>
constexpr const char *
ToString(TEnum value)
{
  for (const auto & entry : ModeTable<TEnum>::Names)
  {
    if (entry.value == value)
    {
      return entry.name;
    }
  }
  // Only reachable through a cast of an integer that names no value.
  return "(invalid)";
}

/** The names of a mode, in the table's order. */
template <typename TEnum>
std::vector<std::string>
ModeChoices()
{
  std::vector<std::string> names;
  for (const auto & entry : ModeTable<TEnum>::Names)
  {
    names.emplace_back(entry.name);
  }
  return names;
}

/** The names of a mode as a message lists them: {'a', 'b'}. */
template <typename TEnum>
std::string
QuotedModeChoices()
{
  std::string text;
  for (const auto & entry : ModeTable<TEnum>::Names)
  {
    text += (text.empty() ? "'" : ", '") + std::string(entry.name) + "'";
  }
  return "{" + text + "}";
}

/** Finds the value of `name`; false (value untouched) when no value has that name. Names are
 * compared exactly (case and hyphens included): one spelling per mode. */
template <typename TEnum>
bool
TryFromString(std::string_view name, TEnum & value)
{
  for (const auto & entry : ModeTable<TEnum>::Names)
  {
    if (name == entry.name)
    {
      value = entry.value;
      return true;
    }
  }
  return false;
}

/** The value of `name`. nsa::ParameterError "<what>: 'name' is not one of {...}" for any
 * other text; `what` defaults to the setting's name (ModeTable<TEnum>::What). */
template <typename TEnum>
TEnum
FromString(std::string_view name, const std::string & what = ModeTable<TEnum>::What)
{
  TEnum value{};
  if (!TryFromString(name, value))
  {
    // Cut what is quoted: the text may come from a hostile file.
    constexpr std::size_t longest = 80;
    const std::string     shown = name.size() > longest ? std::string(name.substr(0, longest)) + "..." : std::string(name);
    throw ParameterError(what + ": '" + shown + "' is not one of " + QuotedModeChoices<TEnum>());
  }
  return value;
}

/** Prints a mode by its name (so that gtest, PrintSelf and logs show the JSON text). */
template <typename TEnum, typename = std::enable_if_t<IsMode<TEnum>::value>>
std::ostream &
operator<<(std::ostream & out, TEnum value)
{
  return out << ToString(value);
}

} // namespace nsa

#endif
