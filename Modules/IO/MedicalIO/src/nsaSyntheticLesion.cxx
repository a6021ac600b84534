#include "nsaSyntheticLesion.h"

#include "nsaError.h"

#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionIterator.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace nsa
{

namespace
{
using FloatImage = itk::Image<float, 3>;
using MaskImage = itk::Image<unsigned char, 3>;

std::string
Join(const std::vector<double> & values)
{
  std::ostringstream text;
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    text << (i ? "," : "") << values[i];
  }
  return text.str();
}

itk::Point<double, 3>
LesionCentre(const FloatImage * image, const SyntheticLesionParameters & parameters)
{
  if (!parameters.centre.empty() && !parameters.centreIndex.empty())
  {
    throw ParameterError("lesion centre: give it in millimetres or as a voxel index, not both");
  }
  itk::Point<double, 3> centre;
  if (!parameters.centre.empty())
  {
    if (parameters.centre.size() != 3)
    {
      throw ParameterError("lesion centre '" + Join(parameters.centre) + "': expected 3 values (x,y,z in mm)");
    }
    for (unsigned int i = 0; i < 3; ++i)
    {
      centre[i] = parameters.centre[i];
    }
  }
  else
  {
    itk::ContinuousIndex<double, 3> index;
    const auto                      size = image->GetLargestPossibleRegion().GetSize();
    const auto                      start = image->GetLargestPossibleRegion().GetIndex();
    if (!parameters.centreIndex.empty() && parameters.centreIndex.size() != 3)
    {
      throw ParameterError("lesion centre index '" + Join(parameters.centreIndex) +
                           "': expected 3 values (i,j,k voxel index)");
    }
    for (unsigned int i = 0; i < 3; ++i)
    {
      index[i] = parameters.centreIndex.empty() ? start[i] + 0.5 * (static_cast<double>(size[i]) - 1.0)
                                                : parameters.centreIndex[i];
    }
    image->TransformContinuousIndexToPhysicalPoint(index, centre);
  }
  // The centre must lie inside the image (half a voxel beyond the outer voxel centres).
  itk::ContinuousIndex<double, 3> index;
  image->TransformPhysicalPointToContinuousIndex(centre, index);
  const auto region = image->GetLargestPossibleRegion();
  for (unsigned int i = 0; i < 3; ++i)
  {
    const double low = region.GetIndex()[i] - 0.5;
    const double high = region.GetIndex()[i] + static_cast<double>(region.GetSize()[i]) - 0.5;
    if (!(index[i] >= low && index[i] <= high))
    {
      std::ostringstream message;
      message << "lesion centre (" << centre[0] << ", " << centre[1] << ", " << centre[2]
              << ") mm lies outside the image (continuous index " << index[0] << ", " << index[1] << ", " << index[2]
              << "; size " << region.GetSize()[0] << " x " << region.GetSize()[1] << " x " << region.GetSize()[2] << ")";
      throw ParameterError(message.str());
    }
  }
  return centre;
}

} // namespace

SyntheticLesion
InsertSyntheticLesion(const FloatImage * image, const SyntheticLesionParameters & parameters)
{
  if (image == nullptr)
  {
    throw ParameterError("synthetic lesion: no input image");
  }
  if (parameters.radii.size() != 3)
  {
    throw ParameterError("lesion radii '" + Join(parameters.radii) + "': expected 3 values (mm along x,y,z)");
  }
  for (const double r : parameters.radii)
  {
    if (!(r > 0.0) || !std::isfinite(r))
    {
      throw ParameterError("lesion radii '" + Join(parameters.radii) + "': every radius must be positive");
    }
  }
  if (!(parameters.edgeSigma >= 0.0) || !std::isfinite(parameters.edgeSigma))
  {
    throw ParameterError("lesion edge sigma " + std::to_string(parameters.edgeSigma) + ": must be >= 0 mm");
  }
  if (!std::isfinite(parameters.intensityChange))
  {
    throw ParameterError("lesion intensity change: must be finite");
  }

  SyntheticLesion lesion;
  lesion.centre = LesionCentre(image, parameters);
  const double minRadius = *std::min_element(parameters.radii.begin(), parameters.radii.end());

  // Edge weight per voxel (see the header): Phi(-s / sigma) with s the signed distance to the
  // surface along the ray from the centre.
  auto weight = FloatImage::New();
  weight->CopyInformation(image);
  weight->SetRegions(image->GetLargestPossibleRegion());
  weight->Allocate();
  lesion.mask = MaskImage::New();
  lesion.mask->CopyInformation(image);
  lesion.mask->SetRegions(image->GetLargestPossibleRegion());
  lesion.mask->Allocate();

  const double sigma = parameters.edgeSigma;
  double       weightedSum = 0.0;
  double       weightSum = 0.0;
  itk::ImageRegionConstIteratorWithIndex<FloatImage> in(image, image->GetLargestPossibleRegion());
  itk::ImageRegionIterator<FloatImage>               w(weight, weight->GetLargestPossibleRegion());
  itk::ImageRegionIterator<MaskImage>                m(lesion.mask, lesion.mask->GetLargestPossibleRegion());
  for (; !in.IsAtEnd(); ++in, ++w, ++m)
  {
    itk::Point<double, 3> p;
    image->TransformIndexToPhysicalPoint(in.GetIndex(), p);
    double q2 = 0.0;
    double d2 = 0.0;
    for (unsigned int i = 0; i < 3; ++i)
    {
      const double d = p[i] - lesion.centre[i];
      q2 += (d / parameters.radii[i]) * (d / parameters.radii[i]);
      d2 += d * d;
    }
    const double q = std::sqrt(q2);
    const double s = q > 0.0 ? std::sqrt(d2) * (1.0 - 1.0 / q) : -minRadius;
    double       value;
    if (sigma > 0.0)
    {
      value = 0.5 * std::erfc(s / (sigma * std::sqrt(2.0)));
    }
    else
    {
      value = q <= 1.0 ? 1.0 : 0.0;
    }
    w.Set(static_cast<float>(value));
    m.Set(q <= 1.0 ? 1 : 0);
    if (q <= 1.0)
    {
      ++lesion.maskVoxels;
    }
    weightedSum += value * in.Get();
    weightSum += value;
  }
  if (lesion.maskVoxels == 0)
  {
    throw ParameterError("lesion radii '" + Join(parameters.radii) +
                         "': the ellipsoid covers no voxel centre of the image (radii smaller than the spacing?)");
  }
  const auto spacing = image->GetSpacing();
  lesion.maskVolume = static_cast<double>(lesion.maskVoxels) * spacing[0] * spacing[1] * spacing[2];
  lesion.tissueIntensity = weightedSum / weightSum;

  if (std::isfinite(parameters.intensityOffset))
  {
    lesion.appliedChange = parameters.intensityOffset;
  }
  else
  {
    if (!(lesion.tissueIntensity > 0.0))
    {
      std::ostringstream message;
      message << "synthetic lesion: the mean intensity inside the lesion is " << lesion.tissueIntensity
              << ", not positive, so a relative change is meaningless; give an absolute intensity offset instead";
      throw InputError(message.str());
    }
    lesion.appliedChange = parameters.intensityChange * lesion.tissueIntensity;
  }

  lesion.image = FloatImage::New();
  lesion.image->CopyInformation(image);
  lesion.image->SetRegions(image->GetLargestPossibleRegion());
  lesion.image->Allocate();
  itk::ImageRegionConstIteratorWithIndex<FloatImage> source(image, image->GetLargestPossibleRegion());
  itk::ImageRegionIterator<FloatImage>               out(lesion.image, lesion.image->GetLargestPossibleRegion());
  for (w.GoToBegin(); !source.IsAtEnd(); ++source, ++w, ++out)
  {
    out.Set(static_cast<float>(source.Get() + w.Get() * lesion.appliedChange));
  }
  return lesion;
}

} // namespace nsa
