#ifndef itkSyntheticAnomalyLabelImageFilter_hxx
#define itkSyntheticAnomalyLabelImageFilter_hxx

#include "itkSyntheticAnomalyLabelImageFilter.h"

#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIterator.h"
#include "itkSlidingRankMedian.h"
#include "itkVariableLengthVector.h"

#include <cmath>
#include <type_traits>

namespace itk
{

namespace SyntheticAnomalyDetail
{
/** Mean over components of |a - b|. */
inline double
MeanAbsoluteDifference(float a, float b)
{
  return std::abs(static_cast<double>(a) - static_cast<double>(b));
}
template <typename TValue>
double
MeanAbsoluteDifference(const VariableLengthVector<TValue> & a, const VariableLengthVector<TValue> & b)
{
  const unsigned int n = a.GetSize();
  double             sum = 0.0;
  for (unsigned int c = 0; c < n; ++c)
  {
    sum += std::abs(static_cast<double>(a[c]) - static_cast<double>(b[c]));
  }
  return n > 0 ? sum / n : 0.0;
}
} // namespace SyntheticAnomalyDetail

template <typename TImage, typename TMaskImage, typename TLabelImage>
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::SyntheticAnomalyLabelImageFilter()
{
  Self::SetPrimaryInputName("OriginalImage");
  Self::AddRequiredInputName("AnomalousImage", 1);
  Self::AddRequiredInputName("PatchMask", 2);
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (!(m_IntensityScale > 0.0) || !std::isfinite(m_IntensityScale))
  {
    itkExceptionMacro("IntensityScale must be a positive number, not " << m_IntensityScale);
  }
  if (m_Tolerance < 0.0)
  {
    itkExceptionMacro("Tolerance must not be negative, not " << m_Tolerance);
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::GenerateInputRequestedRegion()
{
  Superclass::GenerateInputRequestedRegion();
  // Medians need neighbours; the filter is cheap and used on small regions: ask for everything.
  for (auto & input : this->GetInputs())
  {
    if (auto * image = dynamic_cast<ImageBase<ImageDimension> *>(input.GetPointer()))
    {
      image->SetRequestedRegionToLargestPossibleRegion();
    }
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  output->SetRequestedRegionToLargestPossibleRegion();
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::GenerateData()
{
  const ImageType *     original = this->GetOriginalImage();
  const ImageType *     anomalous = this->GetAnomalousImage();
  const MaskImageType * patchMask = this->GetPatchMask();
  LabelImageType *      output = this->GetOutput();
  const auto            region = output->GetRequestedRegion();
  output->SetBufferedRegion(region);
  output->Allocate();

  if (anomalous->GetBufferedRegion() != original->GetBufferedRegion() ||
      patchMask->GetBufferedRegion() != original->GetBufferedRegion())
  {
    itkExceptionMacro("OriginalImage, AnomalousImage and PatchMask must cover the same region; got "
                      << original->GetBufferedRegion() << anomalous->GetBufferedRegion()
                      << patchMask->GetBufferedRegion());
  }

  // The normalised change and the thresholded change mask.
  auto change = RealImageType::New();
  change->CopyInformation(output);
  change->SetRegions(region);
  change->Allocate();
  using MaskType = Image<unsigned char, ImageDimension>;
  auto thresholded = MaskType::New();
  thresholded->CopyInformation(output);
  thresholded->SetRegions(region);
  thresholded->Allocate();
  // Every image here buffers `region`, so voxel i is element i of each buffer: the loops
  // below run over the buffers directly (ITK's iterators cost more than the arithmetic on
  // these small regions, issue 17); multi-component images keep the iterators.
  const SizeValueType count = region.GetNumberOfPixels();
  const double        inverseScale = 1.0 / m_IntensityScale;
  if constexpr (std::is_same<ImageType, Image<float, ImageDimension>>::value)
  {
    const float *               o = original->GetBufferPointer();
    const float *               a = anomalous->GetBufferPointer();
    const typename MaskImageType::PixelType * m = patchMask->GetBufferPointer();
    float *                     d = change->GetBufferPointer();
    unsigned char *             t = thresholded->GetBufferPointer();
    for (SizeValueType i = 0; i < count; ++i)
    {
      const double delta = SyntheticAnomalyDetail::MeanAbsoluteDifference(a[i], o[i]) * inverseScale;
      d[i] = static_cast<float>(delta);
      t[i] = m[i] != 0 && delta > m_Tolerance ? 1 : 0;
    }
  }
  else
  {
    ImageRegionConstIterator<ImageType>     o(original, region);
    ImageRegionConstIterator<ImageType>     a(anomalous, region);
    ImageRegionConstIterator<MaskImageType> m(patchMask, region);
    ImageRegionIterator<RealImageType>      d(change, region);
    ImageRegionIterator<MaskType>           t(thresholded, region);
    for (; !o.IsAtEnd(); ++o, ++a, ++m, ++d, ++t)
    {
      const double delta = SyntheticAnomalyDetail::MeanAbsoluteDifference(a.Get(), o.Get()) * inverseScale;
      d.Set(static_cast<float>(delta));
      t.Set(m.Get() != 0 && delta > m_Tolerance ? 1 : 0);
    }
  }

  typename MaskType::Pointer labelMask = thresholded;
  if (m_MaskMedianRadius > 0)
  {
    // BinaryMedianImageFilter's majority vote (borders replicated), by sliding histograms.
    labelMask = SlidingRankMedian<ImageDimension>(thresholded.GetPointer(), m_MaskMedianRadius);
  }

  using LabelPixelType = typename LabelImageType::PixelType;
  const unsigned char * lm = labelMask->GetBufferPointer();
  LabelPixelType *      out = output->GetBufferPointer();
  if (m_LabelMode == LabelModeEnum::Binary || m_LabelMode == LabelModeEnum::Continuous)
  {
    const double value = m_LabelMode == LabelModeEnum::Binary ? 1.0 : m_InterpolationFactor;
    for (SizeValueType i = 0; i < count; ++i)
    {
      out[i] = static_cast<LabelPixelType>(lm[i] ? value : 0.0);
    }
    return;
  }

  // Intensity labels: the median of the change inside the cleaned mask.
  {
    float * d = change->GetBufferPointer();
    for (SizeValueType i = 0; i < count; ++i)
    {
      d[i] = lm[i] ? d[i] : 0.0f;
    }
  }
  typename RealImageType::Pointer intensity = change;
  if (m_MedianRadius > 0)
  {
    // MedianImageFilter's result, computed by sliding rank histograms, and for logistic
    // labels only inside the cleaned mask, the only voxels where they can be non-zero.
    intensity = SlidingRankMedian<ImageDimension>(
      change, m_LabelMode == LabelModeEnum::LogisticIntensity ? labelMask.GetPointer() : nullptr, m_MedianRadius);
  }
  const float * in = intensity->GetBufferPointer();
  if (m_LabelMode == LabelModeEnum::Intensity)
  {
    for (SizeValueType i = 0; i < count; ++i)
    {
      out[i] = static_cast<LabelPixelType>(in[i]);
    }
    return;
  }
  for (SizeValueType i = 0; i < count; ++i)
  {
    const double value = lm[i] ? 1.0 / (1.0 + std::exp(-m_LogisticK * (in[i] - m_LogisticX0))) : 0.0;
    out[i] = static_cast<LabelPixelType>(value);
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
SyntheticAnomalyLabelImageFilter<TImage, TMaskImage, TLabelImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "LabelMode: " << m_LabelMode << std::endl;
  os << indent << "Tolerance: " << m_Tolerance << std::endl;
  os << indent << "MaskMedianRadius: " << m_MaskMedianRadius << std::endl;
  os << indent << "MedianRadius: " << m_MedianRadius << std::endl;
  os << indent << "LogisticK: " << m_LogisticK << std::endl;
  os << indent << "LogisticX0: " << m_LogisticX0 << std::endl;
  os << indent << "IntensityScale: " << m_IntensityScale << std::endl;
  os << indent << "InterpolationFactor: " << m_InterpolationFactor << std::endl;
}

} // namespace itk

#endif
