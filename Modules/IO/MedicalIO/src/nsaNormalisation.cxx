#include "nsaNormalisation.h"
#include "nsaPercentile.h"

#include "nsaError.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace nsa
{

double
NormalisationMapping::Apply(double value) const
{
  double result = outputLow + (value - inputLow) * (outputHigh - outputLow) / (inputHigh - inputLow);
  if (clip)
  {
    result = std::min(std::max(result, outputLow), outputHigh);
  }
  return result;
}

template <typename TImage>
std::vector<NormalisationMapping>
ComputeNormalisation(const TImage * image, const NormalisationParameters & parameters,
                     const itk::Image<unsigned char, TImage::ImageDimension> * foregroundMask)
{
  parameters.Validate();
  if (image == nullptr)
  {
    throw ParameterError("normalisation: no image given");
  }
  const size_t components = image->GetNumberOfComponentsPerPixel();
  const size_t count = image->GetBufferedRegion().GetNumberOfPixels();
  const float * buffer = reinterpret_cast<const float *>(image->GetBufferPointer());
  if (foregroundMask != nullptr &&
      foregroundMask->GetBufferedRegion().GetSize() != image->GetBufferedRegion().GetSize())
  {
    std::ostringstream message;
    message << "normalisation: the foreground mask is " << foregroundMask->GetBufferedRegion().GetSize()
            << " voxels, the image " << image->GetBufferedRegion().GetSize();
    throw ParameterError(message.str());
  }

  std::vector<NormalisationMapping> mappings(components);
  for (size_t c = 0; c < components; ++c)
  {
    NormalisationMapping & m = mappings[c];
    m.outputLow = parameters.output_range[0];
    m.outputHigh = parameters.output_range[1];
    m.clip = parameters.clip;
    if (parameters.mode == NormalisationMode::None)
    {
      m = NormalisationMapping();
      continue;
    }
    if (parameters.mode == NormalisationMode::Window)
    {
      m.inputLow = parameters.window[0];
      m.inputHigh = parameters.window[1];
      continue;
    }
    float minimum = std::numeric_limits<float>::max();
    float maximum = std::numeric_limits<float>::lowest();
    for (size_t i = 0; i < count; ++i)
    {
      minimum = std::min(minimum, buffer[i * components + c]);
      maximum = std::max(maximum, buffer[i * components + c]);
    }
    if (parameters.mode == NormalisationMode::MinMax)
    {
      m.inputLow = minimum;
      m.inputHigh = maximum;
    }
    else // percentile
    {
      std::vector<float> values;
      values.reserve(count);
      for (size_t i = 0; i < count; ++i)
      {
        const float v = buffer[i * components + c];
        const bool  inside = foregroundMask != nullptr              ? foregroundMask->GetBufferPointer()[i] > 0
                             : parameters.foreground_threshold.has_value() ? v > *parameters.foreground_threshold
                                                                      : v > minimum;
        if (inside)
        {
          values.push_back(v);
        }
      }
      if (values.empty())
      {
        throw InputError(std::string("normalisation: the foreground is empty (") +
                         (foregroundMask != nullptr                      ? "the mask has no voxel above 0"
                          : parameters.foreground_threshold.has_value() ? "no voxel above foreground_threshold"
                                                                        : "the image is constant") +
                         ")");
      }
      const std::vector<double> range = Percentiles(values, parameters.percentiles, PercentileRule::Linear);
      m.inputLow = range[0];
      m.inputHigh = range[1];
    }
    if (!(m.inputHigh > m.inputLow))
    {
      std::ostringstream message;
      message << "normalisation (" << parameters.mode << "): channel " << c << " maps the single value "
              << m.inputLow << "; the " << (parameters.mode == NormalisationMode::MinMax ? "image" : "foreground")
              << " is constant and cannot be normalised";
      throw InputError(message.str());
    }
  }
  return mappings;
}

template <typename TImage>
typename TImage::Pointer
ApplyNormalisation(const TImage * image, const std::vector<NormalisationMapping> & mappings)
{
  const size_t components = image->GetNumberOfComponentsPerPixel();
  if (mappings.size() != components)
  {
    throw ParameterError("normalisation: " + std::to_string(mappings.size()) + " mappings for an image with " +
                         std::to_string(components) + " channels");
  }
  auto output = TImage::New();
  output->CopyInformation(image);
  output->SetRegions(image->GetBufferedRegion());
  output->SetNumberOfComponentsPerPixel(static_cast<unsigned int>(components));
  output->Allocate();
  const size_t  count = image->GetBufferedRegion().GetNumberOfPixels() * components;
  const float * in = reinterpret_cast<const float *>(image->GetBufferPointer());
  float *       out = reinterpret_cast<float *>(output->GetBufferPointer());
  for (size_t i = 0; i < count; ++i)
  {
    out[i] = static_cast<float>(mappings[i % components].Apply(in[i]));
  }
  return output;
}

template <typename TImage>
typename TImage::Pointer
Normalise(const TImage * image, const NormalisationParameters & parameters,
          const itk::Image<unsigned char, TImage::ImageDimension> * foregroundMask)
{
  return ApplyNormalisation(image, ComputeNormalisation(image, parameters, foregroundMask));
}

#define NSA_NORMALISATION_INSTANTIATE(...)                                                                    \
  template std::vector<NormalisationMapping> ComputeNormalisation<__VA_ARGS__>(                              \
    const __VA_ARGS__ *, const NormalisationParameters &,                                                     \
    const itk::Image<unsigned char, __VA_ARGS__::ImageDimension> *);                                          \
  template __VA_ARGS__::Pointer ApplyNormalisation<__VA_ARGS__>(const __VA_ARGS__ *,                          \
                                                                const std::vector<NormalisationMapping> &);  \
  template __VA_ARGS__::Pointer Normalise<__VA_ARGS__>(                                                       \
    const __VA_ARGS__ *, const NormalisationParameters &, const itk::Image<unsigned char, __VA_ARGS__::ImageDimension> *)
NSA_NORMALISATION_INSTANTIATE(itk::Image<float, 2>);
NSA_NORMALISATION_INSTANTIATE(itk::Image<float, 3>);
NSA_NORMALISATION_INSTANTIATE(itk::VectorImage<float, 2>);
NSA_NORMALISATION_INSTANTIATE(itk::VectorImage<float, 3>);
#undef NSA_NORMALISATION_INSTANTIATE

} // namespace nsa
