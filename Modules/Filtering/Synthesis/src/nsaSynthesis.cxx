#include "nsaSynthesis.h"

#include "itkNaturalSyntheticAnomalyImageFilter.h"
#include "nsaError.h"
#include "nsaPercentile.h"

#include "itkImageRegionConstIterator.h"

#include <algorithm>
#include <cmath>

namespace nsa
{

template <unsigned int VDimension>
void
SynthesizeInto(SynthesisResult<VDimension> &                 result,
               const itk::Image<float, VDimension> *         destination,
               const itk::Image<float, VDimension> *         source,
               const itk::Image<unsigned char, VDimension> * destinationMask,
               const itk::Image<unsigned char, VDimension> * sourceMask,
               const SynthesisParameters &                   parameters,
               const RandomStream &                          stream,
               unsigned int                                  numberOfWorkUnits)
{
  if (!destination)
  {
    throw InputError("Synthesize: no destination image");
  }
  try
  {
    parameters.Validate();
  }
  catch (const ParameterError & error)
  {
    throw ParameterError(std::string("synthesis: ") + error.what());
  }
  if (parameters.object_mask == ObjectMask::Image && !destinationMask)
  {
    throw InputError("Synthesize: object_mask 'image' needs a destination mask");
  }
  if (parameters.object_mask == ObjectMask::Image && source && source != destination && !sourceMask)
  {
    throw InputError("Synthesize: object_mask 'image' needs a source mask for the source image");
  }
  using FilterType = itk::NaturalSyntheticAnomalyImageFilter<itk::Image<float, VDimension>>;
  auto filter = FilterType::New();
  filter->SetDestinationImage(destination);
  if (source)
  {
    filter->SetSourceImage(source);
  }
  if (destinationMask)
  {
    filter->SetDestinationMask(destinationMask);
  }
  if (sourceMask)
  {
    filter->SetSourceMask(sourceMask);
  }
  filter->SetParameters(parameters);
  filter->SetRandomStream(stream);
  if (numberOfWorkUnits > 0)
  {
    filter->SetNumberOfWorkUnits(numberOfWorkUnits);
  }
  filter->SetImageBuffer(result.image);
  filter->SetLabelBuffer(result.label);
  try
  {
    filter->Update();
  }
  catch (const itk::ExceptionObject & error)
  {
    throw InputError(std::string("synthesis failed: ") + error.GetDescription());
  }
  // The outputs share the buffers; keep the caller's image objects when they were used.
  auto keep = [](auto & buffer, auto * output) {
    if (!buffer || buffer->GetBufferPointer() != output->GetBufferPointer())
    {
      buffer = output;
      buffer->DisconnectPipeline();
    }
  };
  keep(result.image, filter->GetOutput());
  keep(result.label, filter->GetLabelOutput());
  result.record = filter->GetRecord();
}

template <unsigned int VDimension>
SynthesisResult<VDimension>
Synthesize(const itk::Image<float, VDimension> *         destination,
           const itk::Image<float, VDimension> *         source,
           const itk::Image<unsigned char, VDimension> * destinationMask,
           const itk::Image<unsigned char, VDimension> * sourceMask,
           const SynthesisParameters &                   parameters,
           const RandomStream &                          stream,
           unsigned int                                  numberOfWorkUnits)
{
  SynthesisResult<VDimension> result;
  SynthesizeInto<VDimension>(result, destination, source, destinationMask, sourceMask, parameters, stream,
                             numberOfWorkUnits);
  return result;
}

template <unsigned int VDimension>
typename itk::Image<unsigned char, VDimension>::Pointer
ComputeObjectMask(const itk::Image<float, VDimension> * image, const SynthesisParameters & parameters)
{
  if (!image)
  {
    throw InputError("ComputeObjectMask: no image");
  }
  if (parameters.object_mask != ObjectMask::Background && parameters.object_mask != ObjectMask::Threshold &&
      parameters.object_mask != ObjectMask::Otsu)
  {
    return nullptr;
  }
  parameters.Validate();
  using FilterType = itk::NaturalSyntheticAnomalyImageFilter<itk::Image<float, VDimension>>;
  auto filter = FilterType::New();
  filter->SetParameters(parameters);
  return filter->ComputeObjectMask(image);
}

template <unsigned int VDimension>
LogisticCalibration
CalibrateLogisticLabel(const std::vector<typename itk::Image<float, VDimension>::Pointer> & images,
                       const SynthesisParameters &                                         parameters,
                       const RandomStream &                                                stream,
                       std::size_t                                                         samples)
{
  if (images.empty() || samples == 0)
  {
    throw InputError("CalibrateLogisticLabel: needs at least one image and one sample");
  }
  SynthesisParameters intensity = parameters;
  intensity.label_mode = LabelMode::Intensity;
  if (IsInterpolatedBlend(intensity.blend_mode))
  {
    intensity.blend_mode = BlendMode::PoissonSource;
  }
  std::vector<typename itk::Image<unsigned char, VDimension>::Pointer> masks;
  for (const auto & image : images)
  {
    masks.push_back(ComputeObjectMask<VDimension>(image, intensity));
  }
  // Changes are in the label's normalised units (label_intensity_scale, or each destination's robust
  // range), the units logistic_k and logistic_x0 act on.
  std::vector<double> changes;
  LogisticCalibration calibration;
  for (std::size_t i = 0; i < samples; ++i)
  {
    const std::size_t d = i % images.size();
    const std::size_t s = (i + 1) % images.size();
    const auto        result = Synthesize<VDimension>(images[d], images[s], masks[d], masks[s], intensity,
                                               stream.Child(static_cast<std::uint64_t>(i)), 1);
    itk::ImageRegionConstIterator<itk::Image<float, VDimension>> it(result.label,
                                                                    result.label->GetLargestPossibleRegion());
    for (; !it.IsAtEnd(); ++it)
    {
      if (it.Get() > 0.0f)
      {
        changes.push_back(it.Get());
      }
    }
    ++calibration.samples;
  }
  if (changes.empty())
  {
    throw InputError("CalibrateLogisticLabel: no synthesised patch changed any voxel (check the object mask "
                     "settings and the images)");
  }
  calibration.change_percentile_40 = Percentile(changes, 40.0, PercentileRule::Lower);
  calibration.voxels = changes.size();
  calibration.logistic_k = std::log(99.0 * 9.0) / calibration.change_percentile_40;
  calibration.logistic_x0 = std::log(9.0) / calibration.logistic_k;
  return calibration;
}

template SynthesisResult<2>
Synthesize<2>(const itk::Image<float, 2> *,
              const itk::Image<float, 2> *,
              const itk::Image<unsigned char, 2> *,
              const itk::Image<unsigned char, 2> *,
              const SynthesisParameters &,
              const RandomStream &,
              unsigned int);
template SynthesisResult<3>
Synthesize<3>(const itk::Image<float, 3> *,
              const itk::Image<float, 3> *,
              const itk::Image<unsigned char, 3> *,
              const itk::Image<unsigned char, 3> *,
              const SynthesisParameters &,
              const RandomStream &,
              unsigned int);
template void
SynthesizeInto<2>(SynthesisResult<2> &,
                  const itk::Image<float, 2> *,
                  const itk::Image<float, 2> *,
                  const itk::Image<unsigned char, 2> *,
                  const itk::Image<unsigned char, 2> *,
                  const SynthesisParameters &,
                  const RandomStream &,
                  unsigned int);
template void
SynthesizeInto<3>(SynthesisResult<3> &,
                  const itk::Image<float, 3> *,
                  const itk::Image<float, 3> *,
                  const itk::Image<unsigned char, 3> *,
                  const itk::Image<unsigned char, 3> *,
                  const SynthesisParameters &,
                  const RandomStream &,
                  unsigned int);
template itk::Image<unsigned char, 2>::Pointer
ComputeObjectMask<2>(const itk::Image<float, 2> *, const SynthesisParameters &);
template itk::Image<unsigned char, 3>::Pointer
ComputeObjectMask<3>(const itk::Image<float, 3> *, const SynthesisParameters &);
template LogisticCalibration
CalibrateLogisticLabel<2>(const std::vector<itk::Image<float, 2>::Pointer> &,
                          const SynthesisParameters &,
                          const RandomStream &,
                          std::size_t);
template LogisticCalibration
CalibrateLogisticLabel<3>(const std::vector<itk::Image<float, 3>::Pointer> &,
                          const SynthesisParameters &,
                          const RandomStream &,
                          std::size_t);

} // namespace nsa
