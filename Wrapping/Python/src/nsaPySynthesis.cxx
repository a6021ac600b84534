// Python bindings of the Synthesis module: Poisson blending on its own.
#include "nsaParameterJson.h"
#include "nsaPyArray.h"
#include "nsaPyModule.h"

#include "nsaJsonText.h"

#include "itkPoissonBlendImageFilter.h"
#include "nsaPreset.h"
#include "nsaSynthesis.h"

#include <pybind11/stl.h>

#include <cmath>

namespace py = pybind11;

namespace nsa::python
{

namespace
{

using MaskPixel = unsigned char;

template <unsigned int D>
py::array_t<float>
PoissonBlend(const CArray<float> &                       destination,
             const CArray<float> &                       source,
             const CArray<MaskPixel> &                   mask,
             const std::optional<std::vector<double>> &  spacing,
             const std::string &                         gradients,
             const std::string &                         formulation,
             double                                      interpolationFactor,
             const std::optional<std::vector<double>> &  clamp)
{
  using ImageType = itk::Image<float, D>;
  using FilterType = itk::PoissonBlendImageFilter<ImageType>;
  const auto itkSpacing = SpacingFromPython<D>(spacing);
  for (py::ssize_t d = 0; d < destination.ndim(); ++d)
  {
    if (source.ndim() != destination.ndim() || mask.ndim() != destination.ndim() ||
        source.shape(d) != destination.shape(d) || mask.shape(d) != destination.shape(d))
    {
      throw InputError("poisson_blend: destination, source and mask must have the same shape");
    }
  }
  if (gradients != "source" && gradients != "mixed")
  {
    throw ParameterError("gradients: '" + gradients + "' is not one of 'source', 'mixed'");
  }
  if (formulation != "exact" && formulation != "box")
  {
    throw ParameterError("formulation: '" + formulation + "' is not one of 'exact', 'box'");
  }
  if (!(interpolationFactor >= 0.0 && interpolationFactor <= 1.0))
  {
    throw ParameterError("interpolation_factor: must be in [0, 1]");
  }
  if (clamp && (clamp->size() != 2 || !((*clamp)[0] <= (*clamp)[1])))
  {
    throw ParameterError("clamp: expected (low, high) with low <= high");
  }

  typename ImageType::Pointer result;
  {
    // The arrays stay referenced by this frame; the solve runs without the GIL.
    py::gil_scoped_release release;
    auto filter = FilterType::New();
    filter->SetDestinationImage(WrapArray<float, D>(destination, itkSpacing, "destination"));
    filter->SetSourceImage(WrapArray<float, D>(source, itkSpacing, "source"));
    filter->SetMaskImage(WrapArray<MaskPixel, D>(mask, itkSpacing, "mask"));
    filter->SetGradientMode(gradients == "mixed" ? FilterType::GradientModeEnum::Mixed
                                                 : FilterType::GradientModeEnum::Source);
    filter->SetFormulation(formulation == "box" ? FilterType::FormulationEnum::Box : FilterType::FormulationEnum::Exact);
    filter->SetInterpolationFactor(interpolationFactor);
    if (clamp)
    {
      filter->SetClampOutput(true);
      filter->SetOutputMinimum((*clamp)[0]);
      filter->SetOutputMaximum((*clamp)[1]);
    }
    filter->Update();
    result = filter->GetOutput();
    result->DisconnectPipeline();
  }
  return ImageToArray<ImageType>(result);
}

/** Synthesis parameters: a preset's (name or path), then the keys of a JSON object. */
SynthesisParameters
ResolveSynthesisParameters(const std::optional<std::string> & preset, const std::string & overridesJson)
{
  SynthesisParameters parameters;
  if (preset)
  {
    parameters = LoadPreset(*preset).synthesis;
  }
  if (!overridesJson.empty())
  {
    UpdateFromJson(parameters, ParseJsonText(overridesJson, "parameters"), "parameters");
  }
  return parameters;
}

template <unsigned int D>
py::tuple
Synthesize(const CArray<float> &                      destination,
           const std::optional<CArray<float>> &       source,
           const std::optional<CArray<MaskPixel>> &   destinationMask,
           const std::optional<CArray<MaskPixel>> &   sourceMask,
           const std::optional<std::vector<double>> & spacing,
           const std::optional<std::vector<double>> & sourceSpacing,
           const SynthesisParameters &                parameters,
           std::uint64_t                              seed,
           std::uint64_t                              epoch,
           std::uint64_t                              index)
{
  using ImageType = itk::Image<float, D>;
  using MaskType = itk::Image<MaskPixel, D>;
  const auto destinationSpacing = SpacingFromPython<D>(spacing);
  const auto otherSpacing = sourceSpacing ? SpacingFromPython<D>(sourceSpacing, "source_spacing") : destinationSpacing;
  RequireFinite(destination, "destination");
  if (source)
  {
    RequireFinite(*source, "source");
  }
  SynthesisResult<D> result;
  {
    py::gil_scoped_release release;
    const auto destinationImage = WrapArray<float, D>(destination, destinationSpacing, "destination");
    typename ImageType::Pointer sourceImage;
    typename MaskType::Pointer  destinationMaskImage, sourceMaskImage;
    if (source)
    {
      sourceImage = WrapArray<float, D>(*source, otherSpacing, "source");
    }
    if (destinationMask)
    {
      destinationMaskImage = WrapArray<MaskPixel, D>(*destinationMask, destinationSpacing, "mask");
    }
    if (sourceMask)
    {
      sourceMaskImage = WrapArray<MaskPixel, D>(*sourceMask, otherSpacing, "source_mask");
    }
    result = nsa::Synthesize<D>(destinationImage,
                                sourceImage,
                                destinationMaskImage,
                                sourceMaskImage,
                                parameters,
                                RandomStream(seed, epoch, index, RandomPurpose::Synthesis));
  }
  return py::make_tuple(ImageToArray<ImageType>(result.image),
                        ImageToArray<ImageType>(result.label),
                        result.record.ToJson().dump());
}

} // namespace

void
RegisterSynthesis(py::module_ & module)
{
  module.def(
    "_synthesize",
    [](const CArray<float> &                      destination,
       const std::optional<CArray<float>> &       source,
       const std::optional<CArray<MaskPixel>> &   mask,
       const std::optional<CArray<MaskPixel>> &   sourceMask,
       const std::optional<std::vector<double>> & spacing,
       const std::optional<std::vector<double>> & sourceSpacing,
       const std::optional<std::string> &         preset,
       const std::string &                        overridesJson,
       std::uint64_t                              seed,
       std::uint64_t                              epoch,
       std::uint64_t                              index) -> py::tuple {
      const SynthesisParameters parameters = ResolveSynthesisParameters(preset, overridesJson);
      if (source && source->ndim() != destination.ndim())
      {
        throw InputError("source: expected a " + std::to_string(destination.ndim()) + "D array like the destination");
      }
      switch (destination.ndim())
      {
        case 2:
          return Synthesize<2>(destination, source, mask, sourceMask, spacing, sourceSpacing, parameters, seed, epoch,
                               index);
        case 3:
          return Synthesize<3>(destination, source, mask, sourceMask, spacing, sourceSpacing, parameters, seed, epoch,
                               index);
        default:
          throw InputError("destination: expected a 2D or 3D array, got " + std::to_string(destination.ndim()) + "D");
      }
    },
    py::arg("destination"),
    py::arg("source"),
    py::arg("mask"),
    py::arg("source_mask"),
    py::arg("spacing"),
    py::arg("source_spacing"),
    py::arg("preset"),
    py::arg("overrides_json"),
    py::arg("seed"),
    py::arg("epoch"),
    py::arg("index"),
    "Internal: see nsatoolkit.synthesize.");

  module.def(
    "synthesis_parameters",
    [](const std::optional<std::string> & preset, const std::string & overridesJson) {
      return ToJson(ResolveSynthesisParameters(preset, overridesJson)).dump();
    },
    py::arg("preset") = py::none(),
    py::arg("overrides_json") = "",
    "Internal: the synthesis parameters of a preset with overrides, as JSON text.");

  module.def(
    "poisson_blend",
    [](const CArray<float> &                      destination,
       const CArray<float> &                      source,
       const CArray<MaskPixel> &                  mask,
       const std::optional<std::vector<double>> & spacing,
       const std::string &                        gradients,
       const std::string &                        formulation,
       double                                     interpolationFactor,
       const std::optional<std::vector<double>> & clamp) -> py::array_t<float> {
      switch (destination.ndim())
      {
        case 2:
          return PoissonBlend<2>(destination, source, mask, spacing, gradients, formulation, interpolationFactor,
                                 clamp);
        case 3:
          return PoissonBlend<3>(destination, source, mask, spacing, gradients, formulation, interpolationFactor,
                                 clamp);
        default:
          throw InputError("destination: expected a 2D or 3D array, got " + std::to_string(destination.ndim()) + "D");
      }
    },
    py::arg("destination"),
    py::arg("source"),
    py::arg("mask"),
    py::kw_only(),
    py::arg("spacing") = py::none(),
    py::arg("gradients") = "source",
    py::arg("formulation") = "exact",
    py::arg("interpolation_factor") = 1.0,
    py::arg("clamp") = py::none(),
    R"doc(Poisson image editing (Pérez et al. 2003) of `source` into `destination` inside `mask`.

Arrays are float32 (others are converted), NumPy axis order (z, y, x) or (y, x); `spacing`
follows the same order. The unknowns are the voxels where mask != 0; outside the mask the
result equals `destination` bit for bit (formulation "exact"), or the mask's bounding box is
solved as OpenCV's seamlessClone does ("box"). gradients: "source" (seamless cloning) or
"mixed" (the larger of source and destination gradient). interpolation_factor f mixes the
guidance f * source + (1 - f) * destination. clamp=(low, high) limits the result.)doc");
}

} // namespace nsa::python
