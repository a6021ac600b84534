#include "nsaResampling.h"

#include "nsaError.h"

#include "itkLinearInterpolateImageFunction.h"
#include "itkNearestNeighborExtrapolateImageFunction.h"
#include "itkRecursiveGaussianImageFilter.h"
#include "itkResampleImageFilter.h"

#include <cmath>

namespace nsa
{

namespace
{

using ImageType = itk::Image<float, 3>;

/** Full width at half maximum of a Gaussian per unit sigma: 2 sqrt(2 ln 2). */
constexpr double FwhmPerSigma = 2.3548200450309493;

bool
SameSpacing(double a, double b)
{
  return std::abs(a - b) <= 1e-6 * std::max(std::abs(a), std::abs(b));
}

ImageType::Pointer
Resample(const ImageType * image, const itk::ImageBase<3> * reference)
{
  using ResampleType = itk::ResampleImageFilter<ImageType, ImageType>;
  auto resample = ResampleType::New();
  resample->SetInput(image);
  resample->SetInterpolator(itk::LinearInterpolateImageFunction<ImageType, double>::New());
  resample->SetExtrapolator(itk::NearestNeighborExtrapolateImageFunction<ImageType, double>::New());
  resample->SetOutputParametersFromImage(reference);
  resample->Update();
  ImageType::Pointer output = resample->GetOutput();
  output->DisconnectPipeline();
  return output;
}

} // namespace

ImageType::Pointer
ResampleToSpacing(const ImageType * image, const std::array<double, 3> & spacing)
{
  if (image == nullptr)
  {
    throw ParameterError("ResampleToSpacing: no image");
  }
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const auto oldSpacing = image->GetSpacing();
  auto       newSpacing = oldSpacing;
  auto       newSize = size;
  bool       changes = false;
  for (unsigned int a = 0; a < 3; ++a)
  {
    if (spacing[a] > 0.0 && !std::isfinite(spacing[a]))
    {
      throw ParameterError("spacing: " + std::to_string(spacing[a]) + " is not a finite number");
    }
    if (spacing[a] > 0.0 && !SameSpacing(spacing[a], oldSpacing[a]) && size[a] > 1)
    {
      newSpacing[a] = spacing[a];
      const double count = std::round(size[a] * oldSpacing[a] / spacing[a]);
      if (count > 65536.0)
      {
        throw ParameterError("spacing: resampling axis " + std::to_string(a) + " from " +
                             std::to_string(oldSpacing[a]) + " mm to " + std::to_string(spacing[a]) + " mm gives " +
                             std::to_string(static_cast<long long>(count)) + " voxels (limit 65536)");
      }
      newSize[a] = static_cast<itk::SizeValueType>(std::max(1.0, count));
      changes = true;
    }
  }
  if (!changes)
  {
    ImageType::Pointer same = const_cast<ImageType *>(image);
    return same;
  }

  // Anti-aliasing along the axes that get coarser.
  ImageType::ConstPointer smoothed = image;
  for (unsigned int a = 0; a < 3; ++a)
  {
    if (newSpacing[a] > oldSpacing[a] * (1.0 + 1e-6) && size[a] >= 4)
    {
      auto blur = itk::RecursiveGaussianImageFilter<ImageType, ImageType>::New();
      blur->SetInput(smoothed);
      blur->SetDirection(a);
      blur->SetZeroOrder();
      blur->SetSigma(std::sqrt(newSpacing[a] * newSpacing[a] - oldSpacing[a] * oldSpacing[a]) / FwhmPerSigma);
      blur->Update();
      ImageType::Pointer output = blur->GetOutput();
      output->DisconnectPipeline();
      smoothed = output;
    }
  }

  // The new grid: same outer edges of the extent, so the first voxel centre moves by half
  // the change of spacing along each resampled axis.
  auto grid = ImageType::New();
  grid->SetRegions(ImageType::RegionType(newSize));
  grid->SetSpacing(newSpacing);
  grid->SetDirection(image->GetDirection());
  itk::ContinuousIndex<double, 3> firstCentre;
  for (unsigned int a = 0; a < 3; ++a)
  {
    // Index (in the old grid) of the new first centre: edge at -0.5, plus half a new voxel;
    // with a rounded size the extent is centred on the old one.
    const double newExtent = newSize[a] * newSpacing[a];
    const double oldExtent = size[a] * oldSpacing[a];
    firstCentre[a] = -0.5 + (0.5 * newSpacing[a] + 0.5 * (oldExtent - newExtent)) / oldSpacing[a];
  }
  ImageType::PointType origin;
  image->TransformContinuousIndexToPhysicalPoint(firstCentre, origin);
  grid->SetOrigin(origin);
  return Resample(smoothed.GetPointer(), grid.GetPointer());
}

ImageType::Pointer
ResampleOnto(const ImageType * image, const itk::ImageBase<3> * reference)
{
  if (image == nullptr || reference == nullptr)
  {
    throw ParameterError("ResampleOnto: no image or no reference");
  }
  return Resample(image, reference);
}

} // namespace nsa
