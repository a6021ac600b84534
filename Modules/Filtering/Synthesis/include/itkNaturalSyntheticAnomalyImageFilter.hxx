#ifndef itkNaturalSyntheticAnomalyImageFilter_hxx
#define itkNaturalSyntheticAnomalyImageFilter_hxx

#include "itkNaturalSyntheticAnomalyImageFilter.h"

#include "nsaError.h"
#include "nsaPercentile.h"
#include "nsaPatchSampler.h"

#include "itkBinaryFillholeImageFilter.h"
#include "itkBoxMeanImageFilter.h"
#include "itkImageAlgorithm.h"
#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIterator.h"
#include "itkImageScanlineIterator.h"
#include "itkLinearInterpolateImageFunction.h"
#include "itkOtsuThresholdImageFilter.h"
#include "itkPoissonBlendImageFilter.h"
#include "itkSignedMaurerDistanceMapImageFilter.h"
#include "itkSyntheticAnomalyLabelImageFilter.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace itk
{

namespace NaturalSyntheticAnomalyDetail
{
inline double
ComponentMean(float value)
{
  return value;
}
template <typename TValue>
double
ComponentMean(const VariableLengthVector<TValue> & value)
{
  const unsigned int n = value.GetSize();
  double             sum = 0.0;
  for (unsigned int c = 0; c < n; ++c)
  {
    sum += value[c];
  }
  return n > 0 ? sum / n : 0.0;
}

/** Work units for an internal filter on `voxels` voxels: below 32768 voxels threads cost
 * more than they save (measured with NSASynthesisBenchmark); results do not depend on it. */
inline unsigned int
WorkUnitsFor(std::size_t voxels, unsigned int available)
{
  return voxels < 32768 ? 1u : std::max(1u, available);
}
/** Rounds an interpolated value to the pixel type, clamped to its range: ResampleImageFilter's
 * CastPixelWithBoundsChecking. */
inline float
CastToPixel(double value, float)
{
  constexpr auto lowest = static_cast<double>(NumericTraits<float>::NonpositiveMin());
  constexpr auto highest = static_cast<double>(NumericTraits<float>::max());
  return value <= lowest ? NumericTraits<float>::NonpositiveMin()
                         : (value >= highest ? NumericTraits<float>::max() : static_cast<float>(value));
}
template <typename TValue>
VariableLengthVector<float>
CastToPixel(const VariableLengthVector<TValue> & value, const VariableLengthVector<float> &)
{
  VariableLengthVector<float> pixel(value.GetSize());
  for (unsigned int c = 0; c < value.GetSize(); ++c)
  {
    pixel[c] = CastToPixel(static_cast<double>(value[c]), 0.0f);
  }
  return pixel;
}

/** `output` (allocated, in its own geometry) sampled from `input` by `interpolator` (whose
 * input is `input`) under the identity transform: exactly ResampleImageFilter's
 * LinearThreadedGenerateData (each scan line's end points mapped through physical space,
 * the points between them interpolated linearly along the line; voxels outside the input
 * buffer take 0), without the filter's pipeline around it. Split over `units` work units
 * by `threader`; each voxel's value depends only on its index. */
template <typename TImage, typename TInterpolator>
void
ResampleLinear(const TImage *        input,
               const TInterpolator * interpolator,
               TImage *              output,
               MultiThreaderBase *   threader,
               unsigned int          units)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  using RegionType = typename TImage::RegionType;
  using PixelType = typename TImage::PixelType;
  using ContinuousIndexType = ContinuousIndex<double, Dimension>;
  const RegionType largest = output->GetLargestPossibleRegion();
  PixelType        zero;
  NumericTraits<PixelType>::SetLength(zero, output->GetNumberOfComponentsPerPixel());
  zero = NumericTraits<PixelType>::ZeroValue(zero);
  // Scalar float 2D images (every 2D synthesis): the interpolator's IsInsideBuffer and
  // LinearInterpolateImageFunction::EvaluateOptimized(Dispatch<2>) inline, step for step
  // (ITK 5.2), without two virtual calls and an offset-table product per voxel (issue 17).
  constexpr bool scalar2D = std::is_same<TImage, Image<float, 2>>::value &&
                            std::is_same<TInterpolator, LinearInterpolateImageFunction<Image<float, 2>, double>>::value;
  const auto evaluate2D = [&](const auto & index) -> float {
    const auto & first = interpolator->GetStartContinuousIndex();
    const auto & last = interpolator->GetEndContinuousIndex();
    for (unsigned int j = 0; j < Dimension; ++j)
    {
      if (!(index[j] >= first[j] && index[j] < last[j]))
      {
        return 0.0f;
      }
    }
    const auto &         startIndex = interpolator->GetStartIndex();
    const auto &         endIndex = interpolator->GetEndIndex();
    const auto           bufferStart = input->GetBufferedRegion().GetIndex();
    const OffsetValueType stride = static_cast<OffsetValueType>(input->GetBufferedRegion().GetSize(0));
    const float *        buffer = input->GetBufferPointer();
    auto pixel = [&](IndexValueType x, IndexValueType y) -> double {
      return static_cast<double>(buffer[(y - bufferStart[1]) * stride + (x - bufferStart[0])]);
    };
    IndexValueType b0 = Math::Floor<IndexValueType>(index[0]);
    if (b0 < startIndex[0])
    {
      b0 = startIndex[0];
    }
    const double   distance0 = index[0] - static_cast<double>(b0);
    IndexValueType b1 = Math::Floor<IndexValueType>(index[1]);
    if (b1 < startIndex[1])
    {
      b1 = startIndex[1];
    }
    const double distance1 = index[1] - static_cast<double>(b1);
    const double val00 = pixel(b0, b1);
    double       value;
    if (distance0 <= 0. && distance1 <= 0.)
    {
      value = val00;
    }
    else if (distance1 <= 0.)
    {
      value = b0 + 1 > endIndex[0] ? val00 : val00 + (pixel(b0 + 1, b1) - val00) * distance0;
    }
    else if (distance0 <= 0.)
    {
      value = b1 + 1 > endIndex[1] ? val00 : val00 + (pixel(b0, b1 + 1) - val00) * distance1;
    }
    else if (b0 + 1 > endIndex[0])
    {
      value = b1 + 1 > endIndex[1] ? val00 : val00 + (pixel(b0, b1 + 1) - val00) * distance1;
    }
    else
    {
      const double valx0 = val00 + (pixel(b0 + 1, b1) - val00) * distance0;
      if (b1 + 1 > endIndex[1])
      {
        value = valx0;
      }
      else
      {
        const double val11 = pixel(b0 + 1, b1 + 1);
        const double val01 = pixel(b0, b1 + 1);
        const double valx1 = val01 + (val11 - val01) * distance0;
        value = valx0 + (valx1 - valx0) * distance1;
      }
    }
    return CastToPixel(value, 0.0f);
  };
  auto sample = [&](const RegionType & region) {
    ImageScanlineIterator<TImage> out(output, region);
    while (!out.IsAtEnd())
    {
      typename TImage::IndexType index = out.GetIndex();
      index[0] = largest.GetIndex(0);
      typename TImage::PointType point;
      ContinuousIndexType        startIndex;
      ContinuousIndexType        endIndex;
      output->TransformIndexToPhysicalPoint(index, point);
      input->TransformPhysicalPointToContinuousIndex(point, startIndex);
      index[0] += largest.GetSize(0);
      output->TransformIndexToPhysicalPoint(index, point);
      input->TransformPhysicalPointToContinuousIndex(point, endIndex);
      IndexValueType scanlineIndex = out.GetIndex()[0];
      while (!out.IsAtEndOfLine())
      {
        const double alpha =
          (scanlineIndex - largest.GetIndex(0)) / static_cast<double>(largest.GetSize(0));
        ContinuousIndexType inputIndex(startIndex);
        for (unsigned int i = 0; i < Dimension; ++i)
        {
          inputIndex[i] += alpha * (endIndex[i] - startIndex[i]);
        }
        if constexpr (scalar2D)
        {
          out.Set(evaluate2D(inputIndex));
        }
        else if (interpolator->IsInsideBuffer(inputIndex))
        {
          out.Set(CastToPixel(interpolator->EvaluateAtContinuousIndex(inputIndex), zero));
        }
        else
        {
          out.Set(zero);
        }
        ++out;
        ++scanlineIndex;
      }
      out.NextLine();
    }
  };
  if (units <= 1)
  {
    sample(largest);
    return;
  }
  threader->SetNumberOfWorkUnits(units);
  threader->template ParallelizeImageRegion<Dimension>(largest, sample, nullptr);
}

/** The source box of `patch` copied out (the grid RegionOfInterestImageFilter would give it)
 * and resampled onto the size of the destination box: voxel j of the box takes the source
 * at continuous index (j + 1/2) n / m - 1/2 of the source box (n source, m destination
 * voxels), as image resizing conventionally does. The result has the source's direction;
 * the caller gives it the destination box's geometry. */
template <typename TImage, typename TInterpolator, unsigned int VDimension>
typename TImage::Pointer
ResampledSourcePatch(const TImage *                          source,
                     const nsa::PatchGeometry<VDimension> & patch,
                     TInterpolator *                        interpolator,
                     MultiThreaderBase *                    threader,
                     unsigned int                           units)
{
  using RegionType = typename TImage::RegionType;
  const RegionType         box = patch.destinationRegion;
  const RegionType         local(box.GetSize()); // index 0: the grid of the patch masks
  typename TImage::Pointer sourceBox = TImage::New();
  sourceBox->CopyInformation(source);
  sourceBox->SetRegions(RegionType(patch.sourceRegion.GetSize()));
  {
    typename TImage::PointType sourceOrigin;
    source->TransformIndexToPhysicalPoint(patch.sourceRegion.GetIndex(), sourceOrigin);
    sourceBox->SetOrigin(sourceOrigin);
  }
  sourceBox->Allocate();
  ImageAlgorithm::Copy(source, sourceBox.GetPointer(), patch.sourceRegion, sourceBox->GetBufferedRegion());

  const auto &                       sourceSize = patch.sourceRegion.GetSize();
  const auto &                       boxSize = box.GetSize();
  ContinuousIndex<double, VDimension> firstSample;
  typename TImage::SpacingType       spacing;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const double ratio = static_cast<double>(sourceSize[axis]) / static_cast<double>(boxSize[axis]);
    firstSample[axis] = 0.5 * ratio - 0.5;
    spacing[axis] = source->GetSpacing()[axis] * ratio;
  }
  typename TImage::Pointer sourcePatch = TImage::New();
  sourcePatch->SetRegions(local);
  sourcePatch->SetNumberOfComponentsPerPixel(source->GetNumberOfComponentsPerPixel());
  {
    typename TImage::PointType origin;
    sourceBox->TransformContinuousIndexToPhysicalPoint(firstSample, origin);
    sourcePatch->SetOrigin(origin);
  }
  sourcePatch->SetSpacing(spacing);
  sourcePatch->SetDirection(source->GetDirection());
  sourcePatch->Allocate();
  interpolator->SetInputImage(sourceBox);
  ResampleLinear(sourceBox.GetPointer(), interpolator, sourcePatch.GetPointer(), threader, units);
  return sourcePatch;
}

/** Convex combination inside the patch mask, directly in the working image's `box`:
 * (1 - factor) destination + factor source (swap: factor 1, CutPaste; uniform: FPI). */
template <typename TImage, typename TMaskImage>
void
BlendConvex(TImage *                            working,
            const typename TImage::RegionType & box,
            const TImage *                      sourcePatch,
            const TMaskImage *                  labelMask,
            double                              factor)
{
  using RegionType = typename TImage::RegionType;
  const RegionType                     local(box.GetSize());
  ImageRegionIterator<TImage>          out(working, box);
  ImageRegionConstIterator<TImage>     in(sourcePatch, local);
  ImageRegionConstIterator<TMaskImage> m(labelMask, local);
  for (; !out.IsAtEnd(); ++out, ++in, ++m)
  {
    if (m.Get())
    {
      if (factor == 1.0)
      {
        out.Set(in.Get());
      }
      else
      {
        // A new pixel: for VectorImage, Get() returns a view of the buffer, and
        // assigning an expression of a view to itself would reallocate it first.
        const typename TImage::PixelType value =
          out.Get() * static_cast<float>(1.0 - factor) + in.Get() * static_cast<float>(factor);
        out.Set(value);
      }
    }
  }
}

/** The Poisson blending filter of a sample, set up once for all its patches. */
template <typename TPoisson>
typename TPoisson::Pointer
NewPoissonFilter(const nsa::SynthesisParameters & p, double factor)
{
  auto poisson = TPoisson::New();
  poisson->SetGradientMode(nsa::GradientModeOf(p.blend_mode));
  poisson->SetInterpolationFactor(factor);
  if (p.intensity_range.size() == 2)
  {
    poisson->SetClampOutput(true);
    poisson->SetOutputMinimum(p.intensity_range[0]);
    poisson->SetOutputMaximum(p.intensity_range[1]);
  }
  poisson->SetUseImageSpacing(true);
  return poisson;
}

/** Merges overlapping regions into their bounding boxes until no two overlap, so that each
 * voxel is labelled once. */
template <typename TRegion>
void
MergeOverlappingRegions(std::vector<TRegion> & groups)
{
  auto unite = [](const TRegion & a, const TRegion & b) {
    typename TRegion::IndexType first;
    typename TRegion::SizeType  size;
    for (unsigned int axis = 0; axis < TRegion::ImageDimension; ++axis)
    {
      first[axis] = std::min(a.GetIndex()[axis], b.GetIndex()[axis]);
      const IndexValueType last = std::max(a.GetUpperIndex()[axis], b.GetUpperIndex()[axis]);
      size[axis] = static_cast<SizeValueType>(last - first[axis] + 1);
    }
    return TRegion(first, size);
  };
  for (bool merged = true; merged;)
  {
    merged = false;
    for (std::size_t i = 0; i < groups.size() && !merged; ++i)
    {
      for (std::size_t j = i + 1; j < groups.size() && !merged; ++j)
      {
        TRegion overlap = groups[i];
        if (overlap.Crop(groups[j]))
        {
          groups[i] = unite(groups[i], groups[j]);
          groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(j));
          merged = true;
        }
      }
    }
  }
}

/** A copy of `image` on `group` only (same indices and geometry). */
template <typename TImage>
typename TImage::Pointer
CroppedCopy(const TImage * image, const typename TImage::RegionType & group)
{
  typename TImage::Pointer cropped = TImage::New();
  cropped->CopyInformation(image);
  cropped->SetRegions(group);
  cropped->Allocate();
  ImageAlgorithm::Copy(image, cropped.GetPointer(), group, group);
  return cropped;
}

/** The union, on `group`, of the voxels the blended patches replaced (their label masks). */
template <unsigned int VDimension>
typename nsa::PatchGeometry<VDimension>::MaskImageType::Pointer
ChangedMask(const ImageBase<VDimension> *                 destination,
            const ImageRegion<VDimension> &               group,
            const std::vector<nsa::PatchGeometry<VDimension>> & patches)
{
  using MaskImageType = typename nsa::PatchGeometry<VDimension>::MaskImageType;
  using RegionType = ImageRegion<VDimension>;
  typename MaskImageType::Pointer changed = MaskImageType::New();
  changed->CopyInformation(destination);
  changed->SetRegions(group);
  changed->Allocate();
  changed->FillBuffer(0);
  for (const auto & patch : patches)
  {
    RegionType inside = patch.destinationRegion;
    if (patch.record.status != nsa::PatchStatus::Blended || !inside.Crop(group))
    {
      continue;
    }
    ImageRegionConstIterator<MaskImageType> m(patch.labelMask, RegionType(patch.destinationRegion.GetSize()));
    ImageRegionIterator<MaskImageType>      c(changed, patch.destinationRegion);
    for (; !m.IsAtEnd(); ++m, ++c)
    {
      if (m.Get())
      {
        c.Set(1);
      }
    }
  }
  return changed;
}
} // namespace NaturalSyntheticAnomalyDetail

template <typename TImage, typename TMaskImage, typename TLabelImage>
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::NaturalSyntheticAnomalyImageFilter()
{
  Self::SetPrimaryInputName("DestinationImage");
  Self::AddOptionalInputName("SourceImage", 1);
  Self::AddOptionalInputName("DestinationMask", 2);
  Self::AddOptionalInputName("SourceMask", 3);
  this->SetNumberOfRequiredOutputs(2);
  this->SetNthOutput(0, this->MakeOutput(0));
  this->SetNthOutput(1, this->MakeOutput(1));
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
DataObject::Pointer
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::MakeOutput(DataObjectPointerArraySizeType index)
{
  if (index == 1)
  {
    return LabelImageType::New().GetPointer();
  }
  return Superclass::MakeOutput(index);
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::GetLabelOutput() -> LabelImageType *
{
  return dynamic_cast<LabelImageType *>(this->ProcessObject::GetOutput(1));
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::GetLabelOutput() const -> const LabelImageType *
{
  return dynamic_cast<const LabelImageType *>(this->ProcessObject::GetOutput(1));
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::VerifyInputInformation() ITKv5_CONST
{
  // The source lives in its own physical space (other size, spacing, origin). Each mask must
  // match its image's grid.
  const ImageType * destination = this->GetDestinationImage();
  const ImageType * source = this->GetSourceImage() ? this->GetSourceImage() : destination;
  auto              check = [this](const MaskImageType * mask, const ImageType * image, const char * name) {
    if (!mask)
    {
      return;
    }
    const double tolerance = 1e-6 * image->GetSpacing()[0];
    if (mask->GetLargestPossibleRegion() != image->GetLargestPossibleRegion() ||
        !mask->GetOrigin().GetVnlVector().is_equal(image->GetOrigin().GetVnlVector(), tolerance) ||
        !mask->GetSpacing().GetVnlVector().is_equal(image->GetSpacing().GetVnlVector(), tolerance) ||
        !mask->GetDirection().GetVnlMatrix().is_equal(image->GetDirection().GetVnlMatrix(), 1e-6))
    {
      itkExceptionMacro(<< name << " is not on the grid of its image: mask region "
                        << mask->GetLargestPossibleRegion() << " origin " << mask->GetOrigin() << " spacing "
                        << mask->GetSpacing() << ", image region " << image->GetLargestPossibleRegion() << " origin "
                        << image->GetOrigin() << " spacing " << image->GetSpacing());
    }
  };
  check(this->GetDestinationMask(), destination, "DestinationMask");
  check(this->GetSourceMask(), source, "SourceMask");
  if (source->GetNumberOfComponentsPerPixel() != destination->GetNumberOfComponentsPerPixel())
  {
    itkExceptionMacro("SourceImage has " << source->GetNumberOfComponentsPerPixel()
                                         << " components per pixel, DestinationImage "
                                         << destination->GetNumberOfComponentsPerPixel());
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  try
  {
    m_Parameters.Validate();
  }
  catch (const nsa::ParameterError & error)
  {
    itkExceptionMacro("invalid synthesis parameters: " << error.what());
  }
  if (m_Parameters.object_mask == nsa::ObjectMask::Image)
  {
    if (!this->GetDestinationMask())
    {
      itkExceptionMacro("object_mask 'image' needs a DestinationMask");
    }
    if (this->GetSourceImage() && this->GetSourceImage() != this->GetDestinationImage() && !this->GetSourceMask())
    {
      itkExceptionMacro("object_mask 'image' needs a SourceMask for the SourceImage");
    }
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::GenerateInputRequestedRegion()
{
  // Patches may come from and go anywhere: every input is needed in full.
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
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  output->SetRequestedRegionToLargestPossibleRegion();
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::ComputeObjectMask(const ImageType *     image,
                                                                                      const MaskImageType * given) const
  -> typename ObjectMaskType::Pointer
{
  const nsa::ObjectMask mode = m_Parameters.object_mask;
  if (mode == nsa::ObjectMask::None)
  {
    return nullptr;
  }
  const RegionType region = image->GetLargestPossibleRegion();
  auto             mask = ObjectMaskType::New();
  mask->CopyInformation(image);
  mask->SetRegions(region);
  mask->Allocate();
  if (given)
  {
    ImageRegionConstIterator<MaskImageType> in(given, region);
    ImageRegionIterator<ObjectMaskType>     out(mask, region);
    for (; !in.IsAtEnd(); ++in, ++out)
    {
      out.Set(in.Get() != 0 ? 1 : 0);
    }
    return mask;
  }
  // The paper: object where |mean over channels - background| > tolerance; or (CT) above a
  // threshold; or (MR) above Otsu's threshold of the channel mean. Then a median (majority)
  // filter removes grain from the threshold choice.
  using MeanImageType = Image<float, ImageDimension>;
  auto channelMean = MeanImageType::New();
  channelMean->CopyInformation(image);
  channelMean->SetRegions(region);
  channelMean->Allocate();
  {
    ImageRegionConstIterator<ImageType> in(image, region);
    ImageRegionIterator<MeanImageType>  out(channelMean, region);
    for (; !in.IsAtEnd(); ++in, ++out)
    {
      out.Set(static_cast<float>(NaturalSyntheticAnomalyDetail::ComponentMean(in.Get())));
    }
  }
  double level = 0.0;
  if (mode == nsa::ObjectMask::Background)
  {
    level = *m_Parameters.background_intensity;
  }
  else if (mode == nsa::ObjectMask::Threshold)
  {
    level = *m_Parameters.object_threshold;
  }
  else
  {
    using OtsuType = OtsuThresholdImageFilter<MeanImageType, ObjectMaskType>;
    auto otsu = OtsuType::New();
    otsu->SetInput(channelMean);
    otsu->SetNumberOfHistogramBins(256);
    otsu->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
    otsu->Update();
    level = otsu->GetThreshold();
  }
  {
    ImageRegionConstIterator<MeanImageType> in(channelMean, region);
    ImageRegionIterator<ObjectMaskType>     out(mask, region);
    const bool                              background = mode == nsa::ObjectMask::Background;
    const double                            tolerance = m_Parameters.background_tolerance;
    for (; !in.IsAtEnd(); ++in, ++out)
    {
      const double value = in.Get();
      out.Set(background ? (std::abs(value - level) > tolerance ? 1 : 0) : (value > level ? 1 : 0));
    }
  }
  if (m_Parameters.object_median_radius <= 0)
  {
    return this->ErodeObjectMask(mask);
  }
  // The median of a binary image is a majority vote; the box mean computes it in O(N) with an
  // integral image, independent of the radius (BinaryMedianImageFilter costs O(N r^D)). At
  // the image border the vote counts the voxels inside the image.
  using BoxMeanType = BoxMeanImageFilter<ObjectMaskType, MeanImageType>;
  auto boxMean = BoxMeanType::New();
  boxMean->SetInput(mask);
  boxMean->SetRadius(static_cast<unsigned int>(m_Parameters.object_median_radius));
  boxMean->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  boxMean->Update();
  ImageRegionConstIterator<MeanImageType> in(boxMean->GetOutput(), region);
  ImageRegionIterator<ObjectMaskType>     out(mask, region);
  for (; !in.IsAtEnd(); ++in, ++out)
  {
    out.Set(in.Get() > 0.5f ? 1 : 0);
  }
  return this->ErodeObjectMask(mask);
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::ErodeObjectMask(ObjectMaskType * mask) const
  -> typename ObjectMaskType::Pointer
{
  const double depth = m_Parameters.object_erosion;
  if (depth <= 0.0)
  {
    return mask;
  }
  // The object's outline with its holes filled (a head's ventricles, sulci and the dark skull
  // between scalp and brain are inside it), then the voxels whose Euclidean distance to that
  // outline, in physical units, is at least `depth`.
  using FillType = BinaryFillholeImageFilter<ObjectMaskType>;
  auto fill = FillType::New();
  fill->SetInput(mask);
  fill->SetForegroundValue(1);
  fill->SetFullyConnected(true);
  fill->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  using DistanceImageType = Image<float, ImageDimension>;
  using DistanceType = SignedMaurerDistanceMapImageFilter<ObjectMaskType, DistanceImageType>;
  auto distance = DistanceType::New();
  distance->SetInput(fill->GetOutput());
  distance->SetBackgroundValue(0);
  distance->SetInsideIsPositive(true);
  distance->SetSquaredDistance(false);
  distance->SetUseImageSpacing(true);
  distance->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  distance->Update();
  ImageRegionConstIterator<DistanceImageType> in(distance->GetOutput(), mask->GetLargestPossibleRegion());
  ImageRegionIterator<ObjectMaskType>         out(mask, mask->GetLargestPossibleRegion());
  for (; !in.IsAtEnd(); ++in, ++out)
  {
    out.Set(in.Get() >= depth ? 1 : 0);
  }
  return mask;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
double
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::LabelIntensityScale(const ImageType * image) const
{
  if (m_Parameters.label_intensity_scale)
  {
    return *m_Parameters.label_intensity_scale;
  }
  // The robust range (1st to 99th percentile) of the destination, estimated from at most
  // 65536 voxels on a regular stride (deterministic; the percentiles of a 1 MB volume from
  // 65536 samples are within about 0.1 percentile ranks).
  const RegionType          region = image->GetLargestPossibleRegion();
  const SizeValueType       count = region.GetNumberOfPixels();
  const SizeValueType       stride = std::max<SizeValueType>(1, count / 65536);
  std::vector<double>       values;
  values.reserve(count / stride + 1);
  // Voxel k of the buffer is the pixel at offset k (the image is buffered in full).
  const unsigned int               components = image->GetNumberOfComponentsPerPixel();
  const typename ImageType::InternalPixelType * buffer = image->GetBufferPointer();
  for (SizeValueType k = 0; k < count; k += stride)
  {
    double value = 0.0;
    if (components == 1)
    {
      value = buffer[k];
    }
    else
    {
      for (unsigned int c = 0; c < components; ++c)
      {
        value += buffer[k * components + c];
      }
      value /= components;
    }
    if (std::isfinite(value))
    {
      values.push_back(value);
    }
  }
  if (values.empty())
  {
    return 1.0;
  }
  // The closest ranks below the 1st and 99th percentiles (the rule the shipped models were
  // trained with; nsa::PercentileRule::Linear would move synthesis bits).
  const std::vector<double> robust = nsa::Percentiles(values, { 1.0, 99.0 }, nsa::PercentileRule::Lower);
  const double              low = robust[0];
  const double              high = robust[1];
  if (high > low)
  {
    return high - low;
  }
  const auto range = std::minmax_element(values.begin(), values.end());
  return *range.second > *range.first ? *range.second - *range.first : 1.0;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
template <typename TBuffer>
bool
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::IsReusableBuffer(const TBuffer * buffer,
                                                                                     unsigned int    components) const
{
  const ImageType * destination = this->GetDestinationImage();
  const ImageType * source = this->GetSourceImage() ? this->GetSourceImage() : destination;
  const RegionType  region = destination->GetLargestPossibleRegion();
  if (!buffer || buffer->GetBufferedRegion() != region || !buffer->GetBufferPointer() ||
      buffer->GetNumberOfComponentsPerPixel() != components)
  {
    return false;
  }
  const auto * first = reinterpret_cast<const char *>(buffer->GetBufferPointer());
  const auto * last = first + region.GetNumberOfPixels() * components * sizeof(*buffer->GetBufferPointer());
  const ImageType * inputs[] = { destination, source };
  for (const ImageType * input : inputs)
  {
    const auto * inputFirst = reinterpret_cast<const char *>(input->GetBufferPointer());
    const auto * inputLast = inputFirst + input->GetBufferedRegion().GetNumberOfPixels() *
                                            input->GetNumberOfComponentsPerPixel() *
                                            sizeof(*input->GetBufferPointer());
    if (first < inputLast && inputFirst < last)
    {
      itkExceptionMacro("the output buffer shares memory with an input image");
    }
  }
  return true;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::MakeWorkingImage() const ->
  typename ImageType::Pointer
{
  const ImageType *           destination = this->GetDestinationImage();
  const RegionType            region = destination->GetLargestPossibleRegion();
  const unsigned int          components = destination->GetNumberOfComponentsPerPixel();
  typename ImageType::Pointer working;
  if (this->IsReusableBuffer(m_ImageBuffer.GetPointer(), components))
  {
    working = m_ImageBuffer;
    working->CopyInformation(destination);
  }
  else
  {
    working = ImageType::New();
    working->CopyInformation(destination);
    working->SetRegions(region);
    working->SetNumberOfComponentsPerPixel(components);
    working->Allocate();
  }
  ImageAlgorithm::Copy(destination, working.GetPointer(), region, region);
  return working;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::MakeLabelImage() const ->
  typename LabelImageType::Pointer
{
  const ImageType *                destination = this->GetDestinationImage();
  typename LabelImageType::Pointer label;
  if (this->IsReusableBuffer(m_LabelBuffer.GetPointer(), 1))
  {
    label = m_LabelBuffer;
    label->CopyInformation(destination);
  }
  else
  {
    label = LabelImageType::New();
    label->CopyInformation(destination);
    label->SetRegions(destination->GetLargestPossibleRegion());
    label->Allocate();
  }
  label->FillBuffer(0);
  return label;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::ObjectMaskFor(const ImageType *     image,
                                                                                  const MaskImageType * given) const
  -> typename ObjectMaskType::ConstPointer
{
  typename ObjectMaskType::ConstPointer mask;
  if (m_Parameters.object_mask == nsa::ObjectMask::None)
  {
    return mask;
  }
  if constexpr (std::is_same<MaskImageType, ObjectMaskType>::value)
  {
    if (given)
    {
      mask = given;
      return mask;
    }
  }
  mask = this->ComputeObjectMask(image, given).GetPointer();
  return mask;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::DrawPatches(
  const ImageType *      source,
  const ObjectMaskType * destinationObject,
  const ObjectMaskType * sourceObject,
  double                 factor) const -> std::vector<PatchGeometryType>
{
  nsa::RandomStream stream = m_RandomStream;
  try
  {
    nsa::PatchSampler<ImageDimension> sampler(
      m_Parameters, this->GetDestinationImage(), source, destinationObject, sourceObject);
    return sampler.Sample(stream, factor);
  }
  catch (const nsa::Error & error)
  {
    itkExceptionMacro(<< error.what());
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::BlendPatches(
  const std::vector<PatchGeometryType> & patches,
  const ImageType *                      source,
  ImageType *                            working,
  double                                 factor)
{
  using namespace NaturalSyntheticAnomalyDetail;
  // Per patch: the source box is copied out, resampled onto the destination box, blended,
  // and written back into the working image in place. Plain region copies and ITK's
  // interpolator replace the small per-patch filter pipelines, whose set-up cost more than
  // their work on 2D patches; the arithmetic is ResampleImageFilter's, so the result is the
  // same bit for bit.
  using InterpolatorType = LinearInterpolateImageFunction<ImageType, double>;
  using PoissonType = PoissonBlendImageFilter<ImageType, ObjectMaskType>;
  const unsigned int            workUnits = this->GetNumberOfWorkUnits();
  auto                          interpolator = InterpolatorType::New();
  typename PoissonType::Pointer poisson;
  const std::size_t             numberOfPatches = patches.size();
  std::size_t                   done = 0;
  for (const auto & patch : patches)
  {
    m_Record.patches.push_back(patch.record);
    ++done;
    if (patch.record.status != nsa::PatchStatus::Blended)
    {
      continue;
    }
    const RegionType box = patch.destinationRegion;
    const unsigned   units = WorkUnitsFor(box.GetNumberOfPixels(), workUnits);
    const RegionType local(box.GetSize()); // index 0: the grid of the patch masks
    typename ImageType::Pointer sourcePatch =
      ResampledSourcePatch(source, patch, interpolator.GetPointer(), this->GetMultiThreader(), units);

    // The destination box as it is now (earlier patches included); the source patch on its grid.
    typename ImageType::Pointer destinationPatch = ImageType::New();
    destinationPatch->CopyInformation(working);
    destinationPatch->SetRegions(local);
    {
      typename ImageType::PointType boxOrigin;
      working->TransformIndexToPhysicalPoint(box.GetIndex(), boxOrigin);
      destinationPatch->SetOrigin(boxOrigin);
    }
    sourcePatch->CopyInformation(destinationPatch);

    if (!nsa::IsPoissonBlend(m_Parameters.blend_mode))
    {
      BlendConvex(working, box, sourcePatch.GetPointer(), patch.labelMask.GetPointer(), factor);
    }
    else
    {
      destinationPatch->Allocate();
      ImageAlgorithm::Copy(working, destinationPatch.GetPointer(), box, local);
      if (!poisson)
      {
        poisson = NewPoissonFilter<PoissonType>(m_Parameters, factor);
      }
      poisson->SetDestinationImage(destinationPatch);
      poisson->SetSourceImage(sourcePatch);
      poisson->SetMaskImage(patch.poissonMask);
      poisson->SetNumberOfWorkUnits(units);
      poisson->Update();
      // Write the box back into the working image.
      ImageAlgorithm::Copy(poisson->GetOutput(), working, local, box);
    }
    this->UpdateProgress(0.8f * static_cast<float>(done) / static_cast<float>(std::max<std::size_t>(1, numberOfPatches)));
  }
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
auto
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::LabelRegions(
  const std::vector<PatchGeometryType> & patches) const -> std::vector<RegionType>
{
  // The label can only be non-zero within r1 (+ r2 for intensity labels, which are not
  // multiplied by the cleaned mask) voxels of a replaced voxel, and these regions are
  // computed exactly when each is padded by one more voxel: the medians, which replicate
  // the region's border, then see there the zeros that the whole image has beyond it.
  // Overlapping regions are merged so that each voxel is labelled once.
  const nsa::SynthesisParameters & p = m_Parameters;
  const RegionType                 region = this->GetDestinationImage()->GetLargestPossibleRegion();
  const auto                       maskRadius = static_cast<IndexValueType>(p.label_mask_median_radius);
  const auto                       medianRadius =
    p.label_mode == nsa::LabelMode::Intensity ? static_cast<IndexValueType>(p.label_median_radius) : IndexValueType{ 0 };
  const IndexValueType    pad = maskRadius + medianRadius + 1;
  std::vector<RegionType> groups;
  for (const auto & patch : patches)
  {
    if (patch.record.status == nsa::PatchStatus::Blended)
    {
      RegionType padded = patch.destinationRegion;
      padded.PadByRadius(pad);
      padded.Crop(region);
      groups.push_back(padded);
    }
  }
  NaturalSyntheticAnomalyDetail::MergeOverlappingRegions(groups);
  return groups;
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::LabelRegion(
  const RegionType &                     group,
  const std::vector<PatchGeometryType> & patches,
  const ImageType *                      working,
  LabelImageType *                       label,
  double                                 factor,
  double                                 labelScale) const
{
  using namespace NaturalSyntheticAnomalyDetail;
  using LabelFilterType = SyntheticAnomalyLabelImageFilter<ImageType, ObjectMaskType, LabelImageType>;
  const nsa::SynthesisParameters & p = m_Parameters;
  const ImageType *                destination = this->GetDestinationImage();
  // The inputs of the label filter: the group's region of the original and the anomalous
  // image, and of the union of the voxels the patches replaced.
  auto labeller = LabelFilterType::New();
  labeller->SetOriginalImage(CroppedCopy(destination, group));
  labeller->SetAnomalousImage(CroppedCopy(working, group));
  labeller->SetPatchMask(ChangedMask<ImageDimension>(destination, group, patches));
  labeller->SetLabelMode(p.label_mode);
  labeller->SetTolerance(p.label_tolerance);
  labeller->SetMaskMedianRadius(static_cast<unsigned int>(p.label_mask_median_radius));
  labeller->SetMedianRadius(static_cast<unsigned int>(p.label_median_radius));
  labeller->SetLogisticK(p.logistic_k);
  labeller->SetLogisticX0(p.logistic_x0);
  labeller->SetIntensityScale(labelScale);
  labeller->SetInterpolationFactor(factor);
  labeller->SetNumberOfWorkUnits(WorkUnitsFor(group.GetNumberOfPixels(), this->GetNumberOfWorkUnits()));
  labeller->Update();
  ImageAlgorithm::Copy(labeller->GetOutput(), label, group, group);
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::GenerateData()
{
  const ImageType *                destination = this->GetDestinationImage();
  const ImageType *                source = this->GetSourceImage() ? this->GetSourceImage() : destination;
  const bool                       sameImage = source == destination;
  const nsa::SynthesisParameters & p = m_Parameters;

  // A working copy that the steps below may read and overwrite, and the label; grafted onto
  // the outputs at the end.
  typename ImageType::Pointer      working = this->MakeWorkingImage();
  typename LabelImageType::Pointer label = this->MakeLabelImage();

  // Object masks, the label scale and the whole patch geometry, before any threaded work.
  // Masks given as inputs are used as they are (non-zero = object), without a copy.
  typename ObjectMaskType::ConstPointer destinationObject = this->ObjectMaskFor(destination, this->GetDestinationMask());
  typename ObjectMaskType::ConstPointer sourceObject =
    sameImage && !this->GetSourceMask() ? destinationObject : this->ObjectMaskFor(source, this->GetSourceMask());
  const double labelScale = this->LabelIntensityScale(destination);
  // One factor per sample, shared by its patches, as in the official code; drawn from its own
  // child stream so that the patch geometry of a seed is the same for every blend mode.
  const double factor = nsa::IsInterpolatedBlend(p.blend_mode)
                          ? m_RandomStream.Child(0xFAC7u).Uniform(p.interpolation_bounds[0], p.interpolation_bounds[1])
                          : 1.0;
  const std::vector<PatchGeometryType> patches = this->DrawPatches(source, destinationObject, sourceObject, factor);

  m_Record = nsa::SynthesisRecord();
  m_Record.stream_key = m_RandomStream.GetKey();
  m_Record.blend_mode = p.blend_mode;
  m_Record.label_mode = p.label_mode;
  m_Record.patch_rule = p.patch_rule;
  m_Record.interpolation_factor = factor;
  m_Record.label_intensity_scale = labelScale;

  this->BlendPatches(patches, source, working, factor);
  for (const RegionType & group : this->LabelRegions(patches))
  {
    this->LabelRegion(group, patches, working, label, factor, labelScale);
  }
  this->UpdateProgress(1.0f);

  this->GraftOutput(working);
  this->GraftNthOutput(1, label);
}

template <typename TImage, typename TMaskImage, typename TLabelImage>
void
NaturalSyntheticAnomalyImageFilter<TImage, TMaskImage, TLabelImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Parameters: " << nsa::ParametersText(m_Parameters) << std::endl;
  os << indent << "RandomStream key: " << m_RandomStream.GetKey() << std::endl;
  itkPrintSelfObjectMacro(ImageBuffer);
  itkPrintSelfObjectMacro(LabelBuffer);
  os << indent << "Record of the last update: " << m_Record.NumberOfBlendedPatches() << " of "
     << m_Record.patches.size() << " patches blended (";
  for (std::size_t i = 0; i < m_Record.patches.size(); ++i)
  {
    os << (i ? ", " : "") << nsa::PatchStatusName(m_Record.patches[i].status);
  }
  os << ")" << std::endl;
}

} // namespace itk

#endif
