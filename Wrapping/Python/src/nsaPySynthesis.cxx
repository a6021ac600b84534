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
#include <filesystem>
#include <map>
#include <type_traits>

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
  // The names of nsa::GradientMode and nsa::PoissonFormulation; anything else is refused.
  const auto gradientMode = FromString<GradientMode>(gradients);
  const auto poissonFormulation = FromString<PoissonFormulation>(formulation);
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
    filter->SetGradientMode(gradientMode);
    filter->SetFormulation(poissonFormulation);
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

/** A Python number for a record's value; NaN and infinities as None, as in its JSON text
 * (which has neither: nlohmann writes them as null). */
py::object
NumberToPython(double number)
{
  return std::isfinite(number) ? py::object(py::float_(number)) : py::object(py::none());
}

/** A synthesis record as the dict json.loads makes of its JSON text (PatchRecord::Visit's
 * keys, with the same values), built directly from the record: the text's dump and parse,
 * and even the nlohmann object between, cost 6-15 % of a 128^2 synthesize() call (issue 17). */
template <typename TRecord>
py::dict
RecordToPython(const TRecord & record)
{
  py::dict dict;
  record.Visit([&dict](const char * key, const auto & value) {
    using ValueType = std::decay_t<decltype(value)>;
    if constexpr (std::is_same<ValueType, std::vector<PatchRecord>>::value)
    {
      py::list list(value.size());
      for (std::size_t i = 0; i < value.size(); ++i)
      {
        list[i] = RecordToPython(value[i]);
      }
      dict[key] = std::move(list);
    }
    else if constexpr (std::is_same<ValueType, std::vector<double>>::value)
    {
      py::list list(value.size());
      for (std::size_t i = 0; i < value.size(); ++i)
      {
        list[i] = NumberToPython(value[i]);
      }
      dict[key] = std::move(list);
    }
    else if constexpr (std::is_same<ValueType, double>::value)
    {
      dict[key] = NumberToPython(value);
    }
    else
    {
      dict[key] = py::cast(value); // integers, names, integer vectors
    }
  });
  return dict;
}

/** Synthesis parameters: a preset's (name or path), then the keys of a JSON object. */
SynthesisParameters
LoadSynthesisParameters(const std::optional<std::string> & preset, const std::string & overridesJson)
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

/** The file LoadPreset reads for `preset` (its rule: a path when it holds a '/' or ends in
 * ".json", else the first <folder>/<name>.json along PresetSearchPath()) with its size and
 * modification time; empty when there is none (LoadPreset then throws). */
std::string
PresetFileStamp(const std::string & preset)
{
  namespace fs = std::filesystem;
  const bool isPath = preset.find('/') != std::string::npos ||
                      (preset.size() > 5 && preset.compare(preset.size() - 5, 5, ".json") == 0);
  std::vector<fs::path> candidates;
  if (isPath)
  {
    candidates.emplace_back(preset);
  }
  else
  {
    for (const auto & folder : PresetSearchPath())
    {
      candidates.push_back(fs::path(folder) / (preset + ".json"));
    }
  }
  for (const auto & candidate : candidates)
  {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec))
    {
      const auto size = fs::file_size(candidate, ec);
      const auto time = fs::last_write_time(candidate, ec).time_since_epoch().count();
      return candidate.string() + '\n' + std::to_string(size) + '\n' + std::to_string(time);
    }
  }
  return {};
}

/** LoadSynthesisParameters, remembered per (preset file and its size and time, overrides):
 * reading and parsing the preset cost 7 % of a 256^2 synthesize() call (issue 17). Called
 * with the GIL held, which serialises the cache. */
SynthesisParameters
ResolveSynthesisParameters(const std::optional<std::string> & preset, const std::string & overridesJson)
{
  const std::string stamp = preset ? PresetFileStamp(*preset) : std::string();
  if (preset && stamp.empty())
  {
    return LoadSynthesisParameters(preset, overridesJson); // throws the loader's message
  }
  static std::map<std::string, SynthesisParameters> cache;
  const std::string key = (preset ? *preset : std::string()) + '\n' + stamp + '\n' + overridesJson;
  const auto        found = cache.find(key);
  if (found != cache.end())
  {
    return found->second;
  }
  SynthesisParameters parameters = LoadSynthesisParameters(preset, overridesJson);
  if (cache.size() >= 64)
  {
    cache.clear();
  }
  cache.emplace(key, parameters);
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
                        RecordToPython(result.record));
}

/** A float32 array the caller lends as an output buffer: C-contiguous, writable, of the
 * destination's shape; wrapped without copying. */
template <unsigned int D>
typename itk::Image<float, D>::Pointer
OutputBuffer(const py::array & array, const CArray<float> & destination, const char * name)
{
  if (!array.dtype().is(py::dtype::of<float>()) || !(array.flags() & py::array::c_style) || !array.writeable())
  {
    throw InputError(std::string(name) + ": expected a writable C-contiguous float32 array");
  }
  if (array.ndim() != destination.ndim())
  {
    throw InputError(std::string(name) + ": expected the destination's shape");
  }
  for (py::ssize_t d = 0; d < array.ndim(); ++d)
  {
    if (array.shape(d) != destination.shape(d))
    {
      throw InputError(std::string(name) + ": expected the destination's shape");
    }
  }
  using ImageType = itk::Image<float, D>;
  typename ImageType::SizeType size;
  for (unsigned int d = 0; d < D; ++d)
  {
    size[d] = static_cast<itk::SizeValueType>(array.shape(D - 1 - d));
  }
  auto image = ImageType::New();
  image->SetRegions(typename ImageType::RegionType(size));
  auto container = itk::ImportImageContainer<itk::SizeValueType, float>::New();
  container->SetImportPointer(static_cast<float *>(const_cast<void *>(array.data())),
                              static_cast<itk::SizeValueType>(array.size()), false);
  image->SetPixelContainer(container);
  return image;
}

/** nsatoolkit.Synthesizer: parameters resolved and validated once; optional output buffers
 * and record, for a data loader that calls it for every sample. */
class PySynthesizer
{
public:
  PySynthesizer(const std::optional<std::string> & preset, const std::string & overridesJson)
    : m_Parameters(ResolveSynthesisParameters(preset, overridesJson))
  {
    try
    {
      m_Parameters.Validate();
    }
    catch (const ParameterError & error)
    {
      throw ParameterError(std::string("synthesis: ") + error.what());
    }
  }

  std::string
  ParametersJson() const
  {
    return ToJson(m_Parameters).dump();
  }

  py::tuple
  Call(const CArray<float> &                      destination,
       const std::optional<CArray<float>> &       source,
       const std::optional<CArray<MaskPixel>> &   mask,
       const std::optional<CArray<MaskPixel>> &   sourceMask,
       const std::optional<std::vector<double>> & spacing,
       const std::optional<std::vector<double>> & sourceSpacing,
       std::uint64_t                              seed,
       std::uint64_t                              epoch,
       std::uint64_t                              index,
       const std::optional<py::array> &           imageOut,
       const std::optional<py::array> &           labelOut,
       bool                                       wantRecord) const
  {
    if (source && source->ndim() != destination.ndim())
    {
      throw InputError("source: expected a " + std::to_string(destination.ndim()) + "D array like the destination");
    }
    switch (destination.ndim())
    {
      case 2:
        return Run<2>(destination, source, mask, sourceMask, spacing, sourceSpacing, seed, epoch, index, imageOut,
                      labelOut, wantRecord);
      case 3:
        return Run<3>(destination, source, mask, sourceMask, spacing, sourceSpacing, seed, epoch, index, imageOut,
                      labelOut, wantRecord);
      default:
        throw InputError("destination: expected a 2D or 3D array, got " + std::to_string(destination.ndim()) + "D");
    }
  }

private:
  template <unsigned int D>
  py::tuple
  Run(const CArray<float> &                      destination,
      const std::optional<CArray<float>> &       source,
      const std::optional<CArray<MaskPixel>> &   destinationMask,
      const std::optional<CArray<MaskPixel>> &   sourceMask,
      const std::optional<std::vector<double>> & spacing,
      const std::optional<std::vector<double>> & sourceSpacing,
      std::uint64_t                              seed,
      std::uint64_t                              epoch,
      std::uint64_t                              index,
      const std::optional<py::array> &           imageOut,
      const std::optional<py::array> &           labelOut,
      bool                                       wantRecord) const
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
    if (imageOut)
    {
      result.image = OutputBuffer<D>(*imageOut, destination, "out[0]");
    }
    if (labelOut)
    {
      result.label = OutputBuffer<D>(*labelOut, destination, "out[1]");
    }
    if (imageOut && labelOut && imageOut->data() == labelOut->data())
    {
      throw InputError("out: the image and label buffers must be different arrays");
    }
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
      SynthesizeInto<D>(result, destinationImage, sourceImage, destinationMaskImage, sourceMaskImage, m_Parameters,
                        RandomStream(seed, epoch, index, RandomPurpose::Synthesis));
    }
    py::object image = imageOut ? py::object(*imageOut) : py::object(ImageToArray<ImageType>(result.image));
    py::object label = labelOut ? py::object(*labelOut) : py::object(ImageToArray<ImageType>(result.label));
    py::object record = wantRecord ? RecordToPython(result.record) : py::object(py::none());
    return py::make_tuple(image, label, record);
  }

  SynthesisParameters m_Parameters;
};

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

  py::class_<PySynthesizer>(module, "_Synthesizer")
    .def(py::init<const std::optional<std::string> &, const std::string &>(), py::arg("preset"),
         py::arg("overrides_json"))
    .def("parameters_json", &PySynthesizer::ParametersJson)
    .def("synthesize",
         &PySynthesizer::Call,
         py::arg("destination"),
         py::arg("source"),
         py::arg("mask"),
         py::arg("source_mask"),
         py::arg("spacing"),
         py::arg("source_spacing"),
         py::arg("seed"),
         py::arg("epoch"),
         py::arg("index"),
         py::arg("image_out"),
         py::arg("label_out"),
         py::arg("record"),
         "Internal: see nsatoolkit.Synthesizer.");

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
