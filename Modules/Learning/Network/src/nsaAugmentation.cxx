#include "nsaAugmentation.h"

#include "itkBSplineTransform.h"
#include "itkImageRegionIterator.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkLinearInterpolateImageFunction.h"
#include "itkNearestNeighborExtrapolateImageFunction.h"
#include "itkNearestNeighborInterpolateImageFunction.h"
#include "itkRecursiveGaussianImageFilter.h"
#include "itkResampleImageFilter.h"
#include "itkSmoothingRecursiveGaussianImageFilter.h"

#include <algorithm>
#include <cmath>

namespace nsa
{

namespace
{

/** Child stream numbers: one per transform, so each draws the same whatever the others do. */
enum Step : std::uint64_t
{
  Elastic = 1,
  Resolution,
  Blur,
  Bias,
  Gamma,
  Contrast,
  Brightness,
  Noise,
  Remap
};

/** Full width at half maximum of a Gaussian per unit sigma: 2 sqrt(2 ln 2). */
constexpr double FwhmPerSigma = 2.3548200450309493;

bool
IsRange(const std::vector<double> & range, double identity)
{
  return range.size() == 2 && !(range[0] == identity && range[1] == identity);
}

double
Draw(RandomStream & stream, const std::vector<double> & range)
{
  return range[0] == range[1] ? range[0] : stream.Uniform(range[0], range[1]);
}

template <typename TImage>
bool
LargeEnoughForRecursiveGaussian(const TImage * image)
{
  const auto size = image->GetLargestPossibleRegion().GetSize();
  return std::all_of(size.begin(), size.end(), [](itk::SizeValueType s) { return s >= 4; });
}

template <unsigned int VDimension>
void
ElasticDeformation(typename itk::Image<float, VDimension>::Pointer &         image,
                   typename itk::Image<unsigned char, VDimension>::Pointer & mask,
                   const AugmentationParameters &                            parameters,
                   double                                                    padValue,
                   RandomStream &                                            stream)
{
  using ImageType = itk::Image<float, VDimension>;
  using MaskType = itk::Image<unsigned char, VDimension>;
  using TransformType = itk::BSplineTransform<double, VDimension, 3>;
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const auto spacing = image->GetSpacing();

  auto                                     transform = TransformType::New();
  typename TransformType::PhysicalDimensionsType extent;
  typename TransformType::MeshSizeType           mesh;
  typename TransformType::OriginType             origin;
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    extent[a] = size[a] * spacing[a];
    mesh[a] = std::max<itk::SizeValueType>(1, std::lround(extent[a] / parameters.elastic_spacing));
  }
  // The domain is the image's physical extent: voxel centres minus half a voxel.
  itk::ContinuousIndex<double, VDimension> corner;
  corner.Fill(-0.5);
  image->TransformContinuousIndexToPhysicalPoint(corner, origin);
  transform->SetTransformDomainOrigin(origin);
  transform->SetTransformDomainPhysicalDimensions(extent);
  transform->SetTransformDomainMeshSize(mesh);
  transform->SetTransformDomainDirection(image->GetDirection());
  typename TransformType::ParametersType coefficients(transform->GetNumberOfParameters());
  for (unsigned int i = 0; i < coefficients.GetSize(); ++i)
  {
    coefficients[i] = stream.Uniform(-parameters.elastic_displacement, parameters.elastic_displacement);
  }
  transform->SetParametersByValue(coefficients);

  auto resample = itk::ResampleImageFilter<ImageType, ImageType>::New();
  resample->SetInput(image);
  resample->SetTransform(transform);
  resample->SetOutputParametersFromImage(image);
  resample->SetDefaultPixelValue(static_cast<float>(padValue));
  resample->SetNumberOfWorkUnits(1);
  resample->Update();
  typename ImageType::Pointer warped = resample->GetOutput();
  warped->DisconnectPipeline();
  image = warped;
  if (mask)
  {
    auto resampleMask = itk::ResampleImageFilter<MaskType, MaskType>::New();
    resampleMask->SetInput(mask);
    resampleMask->SetTransform(transform);
    resampleMask->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<MaskType, double>::New());
    resampleMask->SetOutputParametersFromImage(mask);
    resampleMask->SetDefaultPixelValue(0);
    resampleMask->SetNumberOfWorkUnits(1);
    resampleMask->Update();
    typename MaskType::Pointer warpedMask = resampleMask->GetOutput();
    warpedMask->DisconnectPipeline();
    mask = warpedMask;
  }
}

template <unsigned int VDimension>
void
SimulateThickSlices(typename itk::Image<float, VDimension>::Pointer & image, double thickness, RandomStream & stream)
{
  using ImageType = itk::Image<float, VDimension>;
  const auto   size = image->GetLargestPossibleRegion().GetSize();
  unsigned int axes[VDimension];
  unsigned int count = 0;
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    if (size[a] >= 4)
    {
      axes[count++] = a;
    }
  }
  if (count == 0)
  {
    return;
  }
  const unsigned int axis = axes[stream.UniformIndex(count)];
  const auto         spacing = image->GetSpacing();
  if (thickness <= spacing[axis])
  {
    return;
  }
  auto blur = itk::RecursiveGaussianImageFilter<ImageType, ImageType>::New();
  blur->SetInput(image);
  blur->SetDirection(axis);
  blur->SetSigma(thickness / FwhmPerSigma);
  blur->SetZeroOrder();
  blur->SetNumberOfWorkUnits(1);

  // The coarse grid covers the same physical extent with `thickness` along the axis.
  auto                        coarseSpacing = spacing;
  typename ImageType::SizeType coarseSize = size;
  coarseSpacing[axis] = thickness;
  const double extent = size[axis] * spacing[axis];
  coarseSize[axis] = std::max<itk::SizeValueType>(1, std::lround(extent / thickness));
  itk::ContinuousIndex<double, VDimension> firstCentre;
  firstCentre.Fill(0.0);
  firstCentre[axis] = -0.5 + 0.5 * thickness / spacing[axis];
  typename ImageType::PointType coarseOrigin;
  image->TransformContinuousIndexToPhysicalPoint(firstCentre, coarseOrigin);

  using LinearType = itk::LinearInterpolateImageFunction<ImageType, double>;
  using ExtrapolatorType = itk::NearestNeighborExtrapolateImageFunction<ImageType, double>;
  auto down = itk::ResampleImageFilter<ImageType, ImageType>::New();
  down->SetInput(blur->GetOutput());
  down->SetInterpolator(LinearType::New());
  down->SetExtrapolator(ExtrapolatorType::New());
  down->SetSize(coarseSize);
  down->SetOutputSpacing(coarseSpacing);
  down->SetOutputOrigin(coarseOrigin);
  down->SetOutputDirection(image->GetDirection());
  down->SetNumberOfWorkUnits(1);
  auto up = itk::ResampleImageFilter<ImageType, ImageType>::New();
  up->SetInput(down->GetOutput());
  up->SetInterpolator(LinearType::New());
  up->SetExtrapolator(ExtrapolatorType::New());
  up->SetOutputParametersFromImage(image);
  up->SetNumberOfWorkUnits(1);
  up->Update();
  typename ImageType::Pointer result = up->GetOutput();
  result->DisconnectPipeline();
  image = result;
}

template <unsigned int VDimension>
void
GaussianBlur(typename itk::Image<float, VDimension>::Pointer & image, double sigma)
{
  using ImageType = itk::Image<float, VDimension>;
  auto filter = itk::SmoothingRecursiveGaussianImageFilter<ImageType, ImageType>::New();
  filter->SetInput(image);
  filter->SetSigma(sigma);
  filter->SetNumberOfWorkUnits(1);
  filter->Update();
  typename ImageType::Pointer result = filter->GetOutput();
  result->DisconnectPipeline();
  image = result;
}

template <unsigned int VDimension>
void
BiasField(itk::Image<float, VDimension> * image, double amplitude, double low, RandomStream & stream)
{
  using ImageType = itk::Image<float, VDimension>;
  // log field = sum_a c_a u_a + sum_{a<=b} c_ab u_a u_b, u in [-1, 1] across the image.
  double linear[VDimension];
  double quadratic[VDimension][VDimension];
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    linear[a] = stream.Uniform(-1.0, 1.0);
    for (unsigned int b = a; b < VDimension; ++b)
    {
      quadratic[a][b] = stream.Uniform(-1.0, 1.0);
    }
  }
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const auto field = [&](const itk::Index<VDimension> & index) {
    double u[VDimension];
    for (unsigned int a = 0; a < VDimension; ++a)
    {
      u[a] = size[a] > 1 ? 2.0 * index[a] / (size[a] - 1.0) - 1.0 : 0.0;
    }
    double value = 0.0;
    for (unsigned int a = 0; a < VDimension; ++a)
    {
      value += linear[a] * u[a];
      for (unsigned int b = a; b < VDimension; ++b)
      {
        value += quadratic[a][b] * u[a] * u[b];
      }
    }
    return value;
  };
  // The polynomial's largest magnitude over the box is reached at a corner or inside;
  // measuring it on the voxels themselves keeps the amplitude exact for this image.
  double largest = 0.0;
  itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    largest = std::max(largest, std::abs(field(it.GetIndex())));
  }
  if (largest <= 0.0)
  {
    return;
  }
  const double scale = amplitude / largest;
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    const double value = it.Get();
    if (value > low)
    {
      it.Set(static_cast<float>(low + (value - low) * std::exp(scale * field(it.GetIndex()))));
    }
  }
}

/** Random contrast: the object's voxels (above `low`) go through a piecewise-linear curve over
 * [low, high] with `points` equally spaced interior control points; every control level,
 * including both ends, is drawn uniformly in [low, high]. Voxels at or below `low` (the
 * background) keep their value, and values outside [low, high] are held at the curve's ends. */
template <unsigned int VDimension>
void
RemapIntensities(itk::Image<float, VDimension> * image, int points, double low, double high, RandomStream & stream)
{
  using ImageType = itk::Image<float, VDimension>;
  const int           intervals = points + 1;
  std::vector<double> level(static_cast<std::size_t>(intervals) + 1);
  for (double & y : level)
  {
    y = stream.Uniform(low, high);
  }
  const double width = high - low;
  for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const double value = it.Get();
    if (!(value > low))
    {
      continue;
    }
    const double x = std::min(1.0, (value - low) / width) * intervals;
    const int    i = std::min(intervals - 1, static_cast<int>(x));
    const double t = x - i;
    it.Set(static_cast<float>(level[i] + t * (level[i + 1] - level[i])));
  }
}

} // namespace

template <unsigned int VDimension>
void
AugmentScanner(typename itk::Image<float, VDimension>::Pointer &         image,
               typename itk::Image<unsigned char, VDimension>::Pointer & mask,
               const AugmentationParameters &                            parameters,
               const IntensityRange &                                    range,
               RandomStream                                              stream)
{
  using ImageType = itk::Image<float, VDimension>;
  if (parameters.IsIdentity())
  {
    return;
  }
  const double p = parameters.probability;
  const auto   step = [&](Step which) { return stream.Child(which); };

  if (parameters.elastic_displacement > 0.0)
  {
    RandomStream s = step(Elastic);
    if (s.Bernoulli(p))
    {
      ElasticDeformation<VDimension>(image, mask, parameters, range.low, s);
    }
  }
  if (IsRange(parameters.resolution, 0.0))
  {
    RandomStream s = step(Resolution);
    if (s.Bernoulli(p))
    {
      const double thickness = Draw(s, parameters.resolution);
      SimulateThickSlices<VDimension>(image, thickness, s);
    }
  }
  if (IsRange(parameters.blur, 0.0) && LargeEnoughForRecursiveGaussian(image.GetPointer()))
  {
    RandomStream s = step(Blur);
    if (s.Bernoulli(p))
    {
      const double sigma = Draw(s, parameters.blur);
      if (sigma > 0.0)
      {
        GaussianBlur<VDimension>(image, sigma);
      }
    }
  }
  if (parameters.bias_field > 0.0)
  {
    RandomStream s = step(Bias);
    if (s.Bernoulli(p))
    {
      BiasField<VDimension>(image.GetPointer(), s.Uniform(0.0, parameters.bias_field), range.low, s);
    }
  }

  // Point-wise intensity transforms.
  const double width = range.high - range.low;
  if (parameters.remap_points > 0 && width > 0.0)
  {
    RandomStream s = step(Remap);
    if (s.Bernoulli(p))
    {
      RemapIntensities<VDimension>(image.GetPointer(), parameters.remap_points, range.low, range.high, s);
    }
  }
  if (IsRange(parameters.gamma, 1.0) && width > 0.0)
  {
    RandomStream s = step(Gamma);
    if (s.Bernoulli(p))
    {
      // Log-uniform, so that gamma and 1/gamma are equally likely.
      const double gamma =
        std::exp(s.Uniform(std::log(parameters.gamma[0]), std::log(parameters.gamma[1])));
      for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      {
        const double x = (it.Get() - range.low) / width;
        if (x > 0.0 && x < 1.0)
        {
          it.Set(static_cast<float>(range.low + width * std::pow(x, gamma)));
        }
      }
    }
  }
  if (IsRange(parameters.contrast, 1.0))
  {
    RandomStream s = step(Contrast);
    if (s.Bernoulli(p))
    {
      const double factor = Draw(s, parameters.contrast);
      double       sum = 0.0;
      std::size_t  n = 0;
      for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      {
        if (it.Get() > range.low)
        {
          sum += it.Get();
          ++n;
        }
      }
      const double mean = n ? sum / n : 0.0;
      for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      {
        if (it.Get() > range.low)
        {
          it.Set(static_cast<float>(mean + factor * (it.Get() - mean)));
        }
      }
    }
  }
  if (IsRange(parameters.brightness, 0.0))
  {
    RandomStream s = step(Brightness);
    if (s.Bernoulli(p))
    {
      const auto shift = static_cast<float>(Draw(s, parameters.brightness));
      const auto low = static_cast<float>(range.low);
      for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      {
        if (it.Get() > low)
        {
          it.Set(it.Get() + shift);
        }
      }
    }
  }
  if (IsRange(parameters.noise, 0.0))
  {
    RandomStream s = step(Noise);
    if (s.Bernoulli(p))
    {
      const double sigma = Draw(s, parameters.noise);
      for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      {
        it.Set(static_cast<float>(it.Get() + s.Normal(0.0, sigma)));
      }
    }
  }
  if (range.clip)
  {
    const auto low = static_cast<float>(range.low), high = static_cast<float>(range.high);
    for (itk::ImageRegionIterator<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
    {
      it.Set(std::clamp(it.Get(), low, high));
    }
  }
}

template void
AugmentScanner<2>(itk::Image<float, 2>::Pointer &,
                  itk::Image<unsigned char, 2>::Pointer &,
                  const AugmentationParameters &,
                  const IntensityRange &,
                  RandomStream);
template void
AugmentScanner<3>(itk::Image<float, 3>::Pointer &,
                  itk::Image<unsigned char, 3>::Pointer &,
                  const AugmentationParameters &,
                  const IntensityRange &,
                  RandomStream);

} // namespace nsa
