#include "nsaSyntheticLesion.h"

#include "nsaError.h"
#include "nsaPercentile.h"
#include "nsaRandom.h"

#include "itkBinaryFillholeImageFilter.h"
#include "itkConnectedComponentImageFilter.h"
#include "itkDiscreteGaussianImageFilter.h"
#include "itkExtractImageFilter.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionIterator.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkOtsuThresholdImageFilter.h"
#include "itkRelabelComponentImageFilter.h"
#include "itkSignedMaurerDistanceMapImageFilter.h"
#include "itkWarpImageFilter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

namespace nsa
{

namespace
{
using FloatImage = itk::Image<float, 3>;
using MaskImage = itk::Image<unsigned char, 3>;
using RegionType = FloatImage::RegionType;

/** Sub-streams of the parameters' seed, one per random choice, so that adding draws to one
 * never shifts another. */
enum RandomChild : std::uint64_t
{
  ShapeStream = 1,
  PlacementStream = 2,
  NoiseStream = 3
};

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
  if (!parameters.centre.empty() && !parameters.centre_index.empty())
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
    if (!parameters.centre_index.empty() && parameters.centre_index.size() != 3)
    {
      throw ParameterError("lesion centre index '" + Join(parameters.centre_index) +
                           "': expected 3 values (i,j,k voxel index)");
    }
    for (unsigned int i = 0; i < 3; ++i)
    {
      index[i] = parameters.centre_index.empty() ? start[i] + 0.5 * (static_cast<double>(size[i]) - 1.0)
                                                : parameters.centre_index[i];
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

/** The object of an image and the distance of every voxel to its boundary, in the image's
 * buffer order: `mask` 1 on the largest connected component of the Otsu foreground with its
 * holes filled (slice by slice along each axis, see below), `distance` the signed Maurer distance [mm] to its boundary (positive
 * inside). Computed in VDimension dimensions: a volume with a single slice (a 2D image) is
 * handled as that slice, so that the hole filling and the distances are in-plane. */
template <unsigned int VDimension>
void
ObjectAndDistance(const FloatImage * image, std::vector<unsigned char> & mask, std::vector<float> * distance)
{
  using Image = itk::Image<float, VDimension>;
  using Label = itk::Image<unsigned char, VDimension>;
  using Components = itk::Image<unsigned int, VDimension>;
  // Dropping dimensions of size 1 keeps the buffer order.
  typename Image::SizeType    size;
  typename Image::SpacingType spacing;
  unsigned int                d = 0;
  for (unsigned int i = 0; i < 3; ++i)
  {
    if (image->GetLargestPossibleRegion().GetSize()[i] > 1 || VDimension == 3)
    {
      size[d] = image->GetLargestPossibleRegion().GetSize()[i];
      spacing[d] = image->GetSpacing()[i];
      ++d;
    }
  }
  auto flat = Image::New();
  flat->SetRegions(size);
  flat->SetSpacing(spacing);
  flat->Allocate();
  const std::size_t count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  std::copy(image->GetBufferPointer(), image->GetBufferPointer() + count, flat->GetBufferPointer());

  // Otsu marks the dark class with the inside value: foreground (the object) is 1.
  auto otsu = itk::OtsuThresholdImageFilter<Image, Label>::New();
  otsu->SetInput(flat);
  otsu->SetInsideValue(0);
  otsu->SetOutsideValue(1);
  otsu->SetNumberOfHistogramBins(256);
  auto components = itk::ConnectedComponentImageFilter<Label, Components>::New();
  components->SetInput(otsu->GetOutput());
  auto relabel = itk::RelabelComponentImageFilter<Components, Components>::New();
  relabel->SetInput(components->GetOutput());
  relabel->Update();
  auto largest = Label::New();
  largest->CopyInformation(flat);
  largest->SetRegions(flat->GetLargestPossibleRegion());
  largest->Allocate();
  const unsigned int * labels = relabel->GetOutput()->GetBufferPointer();
  for (std::size_t i = 0; i < count; ++i)
  {
    largest->GetBufferPointer()[i] = labels[i] == 1 ? 1 : 0;
  }
  // Holes: in a head the dark skull and CSF between scalp and brain reach the image's border
  // through the neck, so a 3D hole filling leaves them (and every sulcus joined to them) as
  // background. Filled instead: every hole of every 2D slice along every axis (a hole in 3D
  // is a hole in each slice through it); a 2D image is filled as it is.
  typename Label::Pointer filled = Label::New();
  filled->CopyInformation(largest);
  filled->SetRegions(largest->GetLargestPossibleRegion());
  filled->Allocate();
  std::copy(largest->GetBufferPointer(), largest->GetBufferPointer() + count, filled->GetBufferPointer());
  if constexpr (VDimension == 2)
  {
    auto fill = itk::BinaryFillholeImageFilter<Label>::New();
    fill->SetInput(largest);
    fill->SetForegroundValue(1);
    fill->SetFullyConnected(true);
    fill->Update();
    std::copy(fill->GetOutput()->GetBufferPointer(), fill->GetOutput()->GetBufferPointer() + count,
              filled->GetBufferPointer());
  }
  else
  {
    using Slice = itk::Image<unsigned char, 2>;
    const itk::OffsetValueType stride[3] = { 1, static_cast<itk::OffsetValueType>(size[0]),
                                             static_cast<itk::OffsetValueType>(size[0] * size[1]) };
    for (unsigned int axis = 0; axis < 3; ++axis)
    {
      const unsigned int   u = axis == 0 ? 1 : 0;
      const unsigned int   v = axis == 2 ? 1 : 2;
      Slice::SizeType      sliceSize{ { size[u], size[v] } };
      auto                 slice = Slice::New();
      slice->SetRegions(sliceSize);
      slice->Allocate();
      for (itk::SizeValueType k = 0; k < size[axis]; ++k)
      {
        for (itk::SizeValueType j = 0; j < size[v]; ++j)
        {
          for (itk::SizeValueType i = 0; i < size[u]; ++i)
          {
            slice->GetBufferPointer()[j * size[u] + i] =
              largest->GetBufferPointer()[k * stride[axis] + j * stride[v] + i * stride[u]];
          }
        }
        auto fill = itk::BinaryFillholeImageFilter<Slice>::New();
        fill->SetInput(slice);
        fill->SetForegroundValue(1);
        fill->SetFullyConnected(true);
        fill->Update();
        const unsigned char * out = fill->GetOutput()->GetBufferPointer();
        for (itk::SizeValueType j = 0; j < size[v]; ++j)
        {
          for (itk::SizeValueType i = 0; i < size[u]; ++i)
          {
            if (out[j * size[u] + i])
            {
              filled->GetBufferPointer()[k * stride[axis] + j * stride[v] + i * stride[u]] = 1;
            }
          }
        }
      }
    }
  }
  mask.assign(filled->GetBufferPointer(), filled->GetBufferPointer() + count);
  if (distance)
  {
    auto maurer = itk::SignedMaurerDistanceMapImageFilter<Label, Image>::New();
    maurer->SetInput(filled);
    maurer->SetBackgroundValue(0);
    maurer->SetInsideIsPositive(true);
    maurer->SetSquaredDistance(false);
    maurer->SetUseImageSpacing(true);
    maurer->Update();
    distance->assign(maurer->GetOutput()->GetBufferPointer(), maurer->GetOutput()->GetBufferPointer() + count);
  }
}

void
ObjectAndDistance(const FloatImage * image, std::vector<unsigned char> & mask, std::vector<float> * distance)
{
  const auto   size = image->GetLargestPossibleRegion().GetSize();
  unsigned int flatDimensions = 0;
  for (unsigned int i = 0; i < 3; ++i)
  {
    flatDimensions += size[i] == 1 ? 1 : 0;
  }
  if (flatDimensions == 0)
  {
    ObjectAndDistance<3>(image, mask, distance);
  }
  else if (flatDimensions == 1)
  {
    ObjectAndDistance<2>(image, mask, distance);
  }
  else
  {
    throw ParameterError("synthetic lesion: the image has a single row or voxel; an object mask needs 2 or 3 dimensions");
  }
}

/** The irregular shape's radius factor 1 + f(u) for a unit direction u: f is a polynomial in
 * (u_x, u_y, u_z) with every monomial of degree 1 to `degree` and standard normal
 * coefficients, scaled so that max |f| over a dense set of directions is `amplitude`. */
class RadiusModulation
{
public:
  RadiusModulation() = default;
  RadiusModulation(RandomStream & random, unsigned int degree, double amplitude)
  {
    for (unsigned int total = 1; total <= degree; ++total)
    {
      for (unsigned int a = 0; a <= total; ++a)
      {
        for (unsigned int b = 0; a + b <= total; ++b)
        {
          m_Terms.push_back({ a, b, total - a - b, random.Normal(0.0, 1.0) });
        }
      }
    }
    // The largest |f| over 4000 directions of a Fibonacci sphere (spacing about 3.2 degrees;
    // f of degree <= 6 varies little between them).
    double       largest = 0.0;
    const int    n = 4000;
    const double golden = M_PI * (3.0 - std::sqrt(5.0));
    for (int i = 0; i < n; ++i)
    {
      const double z = 1.0 - (2.0 * i + 1.0) / n;
      const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
      largest = std::max(largest, std::abs(Raw(r * std::cos(golden * i), r * std::sin(golden * i), z)));
    }
    m_Scale = largest > 0.0 ? amplitude / largest : 0.0;
  }

  double
  Factor(double x, double y, double z) const
  {
    return 1.0 + m_Scale * Raw(x, y, z);
  }

private:
  struct Term
  {
    unsigned int a, b, c;
    double       coefficient;
  };

  double
  Raw(double x, double y, double z) const
  {
    // Powers by repeated products (exact for the small integer exponents, and fast: this
    // runs for every voxel of the image).
    double px[MaxDegree + 1], py[MaxDegree + 1], pz[MaxDegree + 1];
    px[0] = py[0] = pz[0] = 1.0;
    for (unsigned int k = 1; k <= MaxDegree; ++k)
    {
      px[k] = px[k - 1] * x;
      py[k] = py[k - 1] * y;
      pz[k] = pz[k - 1] * z;
    }
    double sum = 0.0;
    for (const Term & t : m_Terms)
    {
      sum += t.coefficient * px[t.a] * py[t.b] * pz[t.c];
    }
    return sum;
  }

  static constexpr unsigned int MaxDegree = 6;

  std::vector<Term> m_Terms;
  double            m_Scale = 0.0;
};

/** The smallest index region holding every index in [low, high] (clipped to `region`). */
RegionType
BoxRegion(const itk::Index<3> & low, const itk::Index<3> & high, const RegionType & region)
{
  RegionType box;
  for (unsigned int i = 0; i < 3; ++i)
  {
    const auto start = std::max(low[i], region.GetIndex()[i]);
    const auto end = std::min(high[i], region.GetIndex()[i] + static_cast<itk::IndexValueType>(region.GetSize()[i]) - 1);
    box.SetIndex(i, start);
    box.SetSize(i, end >= start ? static_cast<itk::SizeValueType>(end - start + 1) : 0);
  }
  return box;
}

/** The voxels of `region` as an image of their own with the same indices and geometry. */
FloatImage::Pointer
ExtractRegion(const FloatImage * image, const RegionType & region)
{
  auto extract = itk::ExtractImageFilter<FloatImage, FloatImage>::New();
  extract->SetInput(image);
  extract->SetExtractionRegion(region);
  extract->SetDirectionCollapseToIdentity(); // same dimension: the direction is kept as it is
  extract->Update();
  FloatImage::Pointer output = extract->GetOutput();
  output->DisconnectPipeline();
  return output;
}

/** Copy of `image` (same geometry). */
FloatImage::Pointer
CopyImage(const FloatImage * image)
{
  auto copy = FloatImage::New();
  copy->CopyInformation(image);
  copy->SetRegions(image->GetLargestPossibleRegion());
  copy->Allocate();
  std::copy(image->GetBufferPointer(),
            image->GetBufferPointer() + image->GetLargestPossibleRegion().GetNumberOfPixels(),
            copy->GetBufferPointer());
  return copy;
}
/** A new image with the grid and geometry of `image`, allocated but not initialised. */
template <typename TImage>
typename TImage::Pointer
AllocateLike(const FloatImage * image)
{
  auto output = TImage::New();
  output->CopyInformation(image);
  output->SetRegions(image->GetLargestPossibleRegion());
  output->Allocate();
  return output;
}

/** Checks the geometry: three positive radii and the edge. */
void
CheckGeometry(const SyntheticLesionParameters & parameters)
{
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
  if (!(parameters.edge_sigma >= 0.0) || !std::isfinite(parameters.edge_sigma))
  {
    throw ParameterError("lesion edge sigma " + std::to_string(parameters.edge_sigma) + ": must be >= 0 mm");
  }
}

/** The relative intensity change: the parameter, or the kind's default (+0.5 or -0.5) when
 * unset. */
double
RelativeIntensityChange(const SyntheticLesionParameters & parameters)
{
  return parameters.intensity_change.value_or(parameters.kind == LesionKind::Hypointense ? -0.5 : 0.5);
}

/** Checks the intensity change and offset. */
void
CheckIntensityChange(const SyntheticLesionParameters & parameters)
{
  const LesionKind kind = parameters.kind;
  const double     intensityChange = RelativeIntensityChange(parameters);
  if (!std::isfinite(intensityChange))
  {
    throw ParameterError("lesion intensity change: must be finite");
  }
  const std::optional<double> & offset = parameters.intensity_offset;
  if (offset && !std::isfinite(*offset))
  {
    throw ParameterError("lesion intensity offset: must be finite");
  }
  if (kind == LesionKind::Hypointense && !(intensityChange < 0.0 && intensityChange > -1.0) && !offset)
  {
    throw ParameterError("lesion intensity change " + std::to_string(intensityChange) +
                         ": a hypointense lesion needs a change in (-1, 0), e.g. -0.5");
  }
  if (kind == LesionKind::Hypointense && offset && !(*offset < 0.0))
  {
    throw ParameterError("lesion intensity offset " + std::to_string(*offset) +
                         ": a hypointense lesion needs a negative offset");
  }
}

/** Checks the parameters of the kinds other than the intensity changes, and of the irregular
 * shape. */
void
CheckKindAndShapeParameters(const SyntheticLesionParameters & parameters)
{
  const LesionKind kind = parameters.kind;
  if (kind == LesionKind::Cavity && !(parameters.cavity_fill > 0.0 && parameters.cavity_fill <= 1.0))
  {
    throw ParameterError("lesion cavity fill " + std::to_string(parameters.cavity_fill) + ": must be in (0, 1]");
  }
  if (kind == LesionKind::Cavity && parameters.cavity_level && !std::isfinite(*parameters.cavity_level))
  {
    throw ParameterError("lesion cavity level: must be finite");
  }
  if (kind == LesionKind::Blur && !(parameters.blur_sigma > 0.0 && std::isfinite(parameters.blur_sigma)))
  {
    throw ParameterError("lesion blur sigma " + std::to_string(parameters.blur_sigma) + ": must be > 0 mm");
  }
  if (kind == LesionKind::Noise && !(parameters.noise_level > 0.0 && std::isfinite(parameters.noise_level)))
  {
    throw ParameterError("lesion noise level " + std::to_string(parameters.noise_level) + ": must be > 0");
  }
  if (kind == LesionKind::Inversion && !(parameters.inversion_percentile >= 0.0 && parameters.inversion_percentile < 50.0))
  {
    throw ParameterError("lesion inversion percentile " + std::to_string(parameters.inversion_percentile) +
                         ": must be in [0, 50)");
  }
  if (kind == LesionKind::MassEffect &&
      (!(parameters.max_displacement > 0.0 && std::isfinite(parameters.max_displacement)) ||
       !(parameters.displacement_threshold > 0.0)))
  {
    throw ParameterError("lesion displacement " + std::to_string(parameters.max_displacement) + " mm (mask threshold " +
                         std::to_string(parameters.displacement_threshold) + " mm): both must be > 0");
  }
  const bool irregular = parameters.shape == LesionShape::Irregular;
  if (irregular && (!(parameters.irregularity >= 0.0 && parameters.irregularity < 0.9) ||
                    parameters.irregularity_degree < 1 || parameters.irregularity_degree > 6))
  {
    throw ParameterError("lesion irregularity " + std::to_string(parameters.irregularity) + " (degree " +
                         std::to_string(parameters.irregularity_degree) +
                         "): the amplitude must be in [0, 0.9) and the degree in 1..6");
  }
}

/** Placements "random", "deep" and "cortical": draws the centre among the object's voxels
 * whose depth lies in the placement's band; leaves the object mask in `object` (a cavity
 * reuses it). */
void
DrawLesionCentre(const FloatImage *                image,
                 const SyntheticLesionParameters & parameters,
                 const RandomStream &              random,
                 double                            maxRadius,
                 std::vector<unsigned char> &      object,
                 SyntheticLesion &                 lesion)
{
  if (!parameters.centre.empty() || !parameters.centre_index.empty())
  {
    throw ParameterError("lesion placement '" + std::string(ToString(parameters.placement)) +
                         "' draws the centre: give no centre (or use placement 'centre')");
  }
  double low = maxRadius;
  double high = std::numeric_limits<double>::infinity();
  if (parameters.placement == LesionPlacement::Deep)
  {
    low = std::max(low, parameters.deep_distance);
  }
  else if (parameters.placement == LesionPlacement::Cortical)
  {
    if (parameters.cortical_band.size() != 2 || !(parameters.cortical_band[0] < parameters.cortical_band[1]))
    {
      throw ParameterError("lesion cortical band '" + Join(parameters.cortical_band) +
                           "': expected 2 increasing distances in mm");
    }
    low = std::max(low, parameters.cortical_band[0]);
    high = parameters.cortical_band[1];
  }
  std::vector<float> distance;
  ObjectAndDistance(image, object, &distance);
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < distance.size(); ++i)
  {
    if (distance[i] >= low && distance[i] <= high)
    {
      candidates.push_back(i);
    }
  }
  if (candidates.empty())
  {
    const float deepest = distance.empty() ? 0.0f : *std::max_element(distance.begin(), distance.end());
    std::ostringstream message;
    message << "lesion placement '" << parameters.placement << "': no voxel lies between " << low << " and " << high
            << " mm from the object's boundary (the lesion's largest radius is " << maxRadius
            << " mm; the deepest voxel of the object is " << deepest << " mm deep)";
    throw ParameterError(message.str());
  }
  RandomStream      placementRandom = random.Child(PlacementStream);
  const std::size_t chosen = candidates[placementRandom.UniformIndex(candidates.size())];
  lesion.centreDepth = distance[chosen];
  image->TransformIndexToPhysicalPoint(image->ComputeIndex(static_cast<itk::OffsetValueType>(chosen)), lesion.centre);
}

/** The lesion's edge weight per voxel, and what the kinds need besides. */
struct LesionWeights
{
  /** w = Phi(-s / sigma) per voxel (see the header). */
  FloatImage::Pointer weight;
  /** The shape's normalised radius q per voxel (kind "mass-effect" only; unallocated
   * otherwise). */
  FloatImage::Pointer radius;
  /** Bounding box of the lesion's support (w > 1e-6; mass effect: q <= 5). */
  itk::Index<3> low;
  itk::Index<3> high;
};

/** Largest normalised radius q of the mass effect's support (its displacement beyond is
 * negligible). */
constexpr double MassEffectSupportRadius = 5.0;

/** One pass over the image: the edge weights, the mask (q <= 1, at least the voxel nearest
 * the centre), its voxel count, the support box and the tissue intensity (the w-weighted
 * mean of the image). */
LesionWeights
ComputeLesionWeights(const FloatImage *                image,
                     const SyntheticLesionParameters & parameters,
                     const RadiusModulation &          modulation,
                     double                            minRadius,
                     SyntheticLesion &                 lesion)
{
  const RegionType          region = image->GetLargestPossibleRegion();
  const bool                irregular = parameters.shape == LesionShape::Irregular;
  const bool                massEffect = parameters.kind == LesionKind::MassEffect;
  const FloatImage::Pointer weight = AllocateLike<FloatImage>(image);
  const FloatImage::Pointer radius = massEffect ? AllocateLike<FloatImage>(image) : FloatImage::New();
  lesion.mask = AllocateLike<MaskImage>(image);
  // Locals, not the members of `lesion`, in the loop: they stay in registers.
  const itk::Point<double, 3> centre = lesion.centre;
  std::size_t                 maskVoxels = 0;

  const double     sigma = parameters.edge_sigma;
  double           weightedSum = 0.0;
  double           weightSum = 0.0;
  const double     supportWeight = 1e-6;
  const double     supportRadius = MassEffectSupportRadius;
  itk::Index<3>    low, high;
  low.Fill(itk::NumericTraits<itk::IndexValueType>::max());
  high.Fill(itk::NumericTraits<itk::IndexValueType>::NonpositiveMin());
  itk::ImageRegionConstIteratorWithIndex<FloatImage> in(image, region);
  itk::ImageRegionIterator<FloatImage>               w(weight, region);
  itk::ImageRegionIterator<MaskImage>                m(lesion.mask, region);
  for (; !in.IsAtEnd(); ++in, ++w, ++m)
  {
    itk::Point<double, 3> p;
    image->TransformIndexToPhysicalPoint(in.GetIndex(), p);
    double q2 = 0.0;
    double d2 = 0.0;
    double u[3];
    for (unsigned int i = 0; i < 3; ++i)
    {
      const double d = p[i] - centre[i];
      u[i] = d / parameters.radii[i];
      q2 += u[i] * u[i];
      d2 += d * d;
    }
    double q = std::sqrt(q2);
    if (irregular && q > 0.0)
    {
      q /= modulation.Factor(u[0] / q, u[1] / q, u[2] / q);
    }
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
      ++maskVoxels;
    }
    if (massEffect)
    {
      radius->SetPixel(in.GetIndex(), static_cast<float>(q));
    }
    if (massEffect ? q <= supportRadius : value > supportWeight)
    {
      for (unsigned int i = 0; i < 3; ++i)
      {
        low[i] = std::min(low[i], in.GetIndex()[i]);
        high[i] = std::max(high[i], in.GetIndex()[i]);
      }
    }
    weightedSum += value * in.Get();
    weightSum += value;
  }
  if (maskVoxels == 0)
  {
    // Smaller than the grid: the voxel nearest the centre (inside the image, see LesionCentre).
    const auto nearest = image->TransformPhysicalPointToIndex(centre);
    lesion.mask->SetPixel(nearest, 1);
    maskVoxels = 1;
    for (unsigned int i = 0; i < 3; ++i)
    {
      low[i] = std::min(low[i], nearest[i]);
      high[i] = std::max(high[i], nearest[i]);
    }
  }
  lesion.maskVoxels = maskVoxels;
  lesion.tissueIntensity = weightedSum / weightSum;
  return { weight, radius, low, high };
}

/** Kinds "hyperintense" and "hypointense": v + w * change over the whole image. */
void
AddIntensityChange(const FloatImage *                image,
                   const FloatImage *                weight,
                   const SyntheticLesionParameters & parameters,
                   double                            intensityChange,
                   SyntheticLesion &                 lesion)
{
  if (parameters.intensity_offset)
  {
    lesion.appliedChange = *parameters.intensity_offset;
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
    lesion.appliedChange = intensityChange * lesion.tissueIntensity;
  }

  const RegionType region = image->GetLargestPossibleRegion();
  lesion.image = AllocateLike<FloatImage>(image);
  itk::ImageRegionConstIteratorWithIndex<FloatImage> source(image, region);
  itk::ImageRegionConstIterator<FloatImage>          w(weight, region);
  itk::ImageRegionIterator<FloatImage>               out(lesion.image, region);
  for (; !source.IsAtEnd(); ++source, ++w, ++out)
  {
    out.Set(static_cast<float>(source.Get() + w.Get() * lesion.appliedChange));
  }
}

/** Kind "cavity": v + w * cavity_fill * (L - v) in the support, L the cavity level (by default
 * the 2nd percentile of the object, computed into `object` if the placement did not). */
void
FillCavity(const FloatImage *                image,
           const FloatImage *                weight,
           const RegionType &                support,
           const SyntheticLesionParameters & parameters,
           std::vector<unsigned char> &      object,
           SyntheticLesion &                 lesion)
{
  double level = 0.0;
  if (parameters.cavity_level)
  {
    level = *parameters.cavity_level;
  }
  else
  {
    if (object.empty())
    {
      ObjectAndDistance(image, object, nullptr);
    }
    std::vector<float> inside;
    for (std::size_t i = 0; i < object.size(); ++i)
    {
      if (object[i])
      {
        inside.push_back(image->GetBufferPointer()[i]);
      }
    }
    level = Percentile(inside, 2.0, PercentileRule::Nearest);
  }
  lesion.rangeLow = lesion.rangeHigh = level;
  lesion.appliedChange = parameters.cavity_fill * (level - lesion.tissueIntensity);
  itk::ImageRegionIterator<FloatImage>      out(lesion.image, support);
  itk::ImageRegionConstIterator<FloatImage> ws(weight, support);
  for (; !out.IsAtEnd(); ++out, ++ws)
  {
    const double v = out.Get();
    out.Set(static_cast<float>(v + ws.Get() * parameters.cavity_fill * (level - v)));
  }
}

/** Kind "blur": v + w * (G * v - v) in the support, G a Gaussian of blur_sigma (in-plane along
 * the `flat` axes). */
void
BlurTissue(const FloatImage *                image,
           const FloatImage *                weight,
           const LesionWeights &             weights,
           const std::array<bool, 3> &       flat,
           const SyntheticLesionParameters & parameters,
           SyntheticLesion &                 lesion)
{
  const RegionType region = image->GetLargestPossibleRegion();
  const RegionType support = BoxRegion(weights.low, weights.high, region);
  const auto       spacing = image->GetSpacing();
  // Blur a box that reaches 4 sigma beyond the support, so that the blurred values in
  // the support see real neighbours and not the box's border.
  using Gaussian = itk::DiscreteGaussianImageFilter<FloatImage, FloatImage>;
  itk::Index<3>                 outerLow = weights.low, outerHigh = weights.high;
  typename Gaussian::ArrayType variance;
  for (unsigned int i = 0; i < 3; ++i)
  {
    const auto margin = static_cast<itk::IndexValueType>(std::ceil(4.0 * parameters.blur_sigma / spacing[i]));
    outerLow[i] -= margin;
    outerHigh[i] += margin;
    variance[i] = flat[i] ? 0.0 : parameters.blur_sigma * parameters.blur_sigma;
  }
  const RegionType outer = BoxRegion(outerLow, outerHigh, region);
  auto             gaussian = Gaussian::New();
  gaussian->SetInput(ExtractRegion(image, outer));
  gaussian->SetVariance(variance);
  gaussian->SetUseImageSpacing(true);
  gaussian->SetMaximumError(0.01);
  gaussian->SetMaximumKernelWidth(256);
  gaussian->Update();
  const FloatImage * blurred = gaussian->GetOutput();
  itk::ImageRegionIterator<FloatImage>      out(lesion.image, support);
  itk::ImageRegionConstIterator<FloatImage> ws(weight, support);
  itk::ImageRegionConstIterator<FloatImage> b(blurred, support);
  for (; !out.IsAtEnd(); ++out, ++ws, ++b)
  {
    const double v = out.Get();
    out.Set(static_cast<float>(v + ws.Get() * (b.Get() - v)));
  }
}

/** Kind "noise": v + w * noise_level * t * n in the support, n standard normal from the
 * noise sub-stream. */
void
AddNoise(const FloatImage *                weight,
         const RegionType &                support,
         const SyntheticLesionParameters & parameters,
         const RandomStream &              random,
         SyntheticLesion &                 lesion)
{
  if (!(lesion.tissueIntensity > 0.0))
  {
    std::ostringstream message;
    message << "synthetic lesion: the mean intensity inside the lesion is " << lesion.tissueIntensity
            << ", not positive, so noise relative to it is meaningless";
    throw InputError(message.str());
  }
  lesion.appliedChange = parameters.noise_level * lesion.tissueIntensity;
  // One draw per voxel of the support box in buffer order, whatever its weight: the
  // noise is a pure function of the seed and the box.
  RandomStream                              noise = random.Child(NoiseStream);
  itk::ImageRegionIterator<FloatImage>      out(lesion.image, support);
  itk::ImageRegionConstIterator<FloatImage> ws(weight, support);
  for (; !out.IsAtEnd(); ++out, ++ws)
  {
    const double n = noise.Normal(0.0, 1.0);
    out.Set(static_cast<float>(out.Get() + ws.Get() * lesion.appliedChange * n));
  }
}

/** Kind "inversion": v + w * (lo + hi - 2 v) in the support, [lo, hi] the robust range of
 * the box reaching twice the largest radius from the centre. */
void
InvertIntensities(const FloatImage *                image,
                  const FloatImage *                weight,
                  const RegionType &                support,
                  const SyntheticLesionParameters & parameters,
                  double                            maxRadius,
                  SyntheticLesion &                 lesion)
{
  // The local range: the image in a box reaching twice the lesion's largest radius from
  // its centre, so that a lesion inside one tissue maps it to the darkest or brightest
  // tissue around (within the lesion alone the range would be that tissue's noise).
  itk::ContinuousIndex<double, 3> first;
  itk::Point<double, 3>           corner;
  itk::Index<3>                   boxLow, boxHigh;
  for (unsigned int i = 0; i < 3; ++i)
  {
    boxLow[i] = itk::NumericTraits<itk::IndexValueType>::max();
    boxHigh[i] = itk::NumericTraits<itk::IndexValueType>::NonpositiveMin();
  }
  for (unsigned int c = 0; c < 8; ++c)
  {
    for (unsigned int i = 0; i < 3; ++i)
    {
      corner[i] = lesion.centre[i] + ((c >> i) & 1 ? 2.0 : -2.0) * maxRadius;
    }
    image->TransformPhysicalPointToContinuousIndex(corner, first);
    for (unsigned int i = 0; i < 3; ++i)
    {
      boxLow[i] = std::min(boxLow[i], static_cast<itk::IndexValueType>(std::floor(first[i])));
      boxHigh[i] = std::max(boxHigh[i], static_cast<itk::IndexValueType>(std::ceil(first[i])));
    }
  }
  std::vector<float>                        inside;
  itk::ImageRegionConstIterator<FloatImage> v(image, BoxRegion(boxLow, boxHigh, image->GetLargestPossibleRegion()));
  for (; !v.IsAtEnd(); ++v)
  {
    inside.push_back(v.Get());
  }
  const std::vector<double> range =
    Percentiles(inside, { parameters.inversion_percentile, 100.0 - parameters.inversion_percentile },
                PercentileRule::Nearest);
  lesion.rangeLow = range[0];
  lesion.rangeHigh = range[1];
  lesion.appliedChange = lesion.rangeLow + lesion.rangeHigh - 2.0 * lesion.tissueIntensity;
  const double                              sum = lesion.rangeLow + lesion.rangeHigh;
  itk::ImageRegionIterator<FloatImage>      out(lesion.image, support);
  itk::ImageRegionConstIterator<FloatImage> ws(weight, support);
  for (; !out.IsAtEnd(); ++out, ++ws)
  {
    const double value = out.Get();
    out.Set(static_cast<float>(value + ws.Get() * (sum - 2.0 * value)));
  }
}

/** Unit vectors, in physical space, of the index axes marked `flat` (no displacement along
 * them). */
std::vector<itk::Vector<double, 3>>
FlatAxes(const FloatImage * image, const std::array<bool, 3> & flat)
{
  std::vector<itk::Vector<double, 3>> flatAxes;
  for (unsigned int i = 0; i < 3; ++i)
  {
    if (flat[i])
    {
      itk::Vector<double, 3> axis;
      for (unsigned int j = 0; j < 3; ++j)
      {
        axis[j] = image->GetDirection()[j][i];
      }
      axis.Normalize();
      flatAxes.push_back(axis);
    }
  }
  return flatAxes;
}

/** Kind "mass-effect": warps the support with the radial displacement A q e^((1 - q^2) / 2)
 * towards the outside, A capped so that no tissue folds; adds to the mask where the
 * displacement reaches displacement_threshold. */
void
DisplaceTissue(const FloatImage *                image,
               const FloatImage *                radius,
               const RegionType &                support,
               const std::array<bool, 3> &       flat,
               const SyntheticLesionParameters & parameters,
               double                            minRadius,
               SyntheticLesion &                 lesion)
{
  const bool irregular = parameters.shape == LesionShape::Irregular;
  // Cap so that every ray's map r -> r - A h(r / rho) keeps a slope >= 0.1 (no folding):
  // |h'| <= h'(0) = e^(1/2) and rho >= the smallest radius times the smallest shape factor.
  const double rhoMin = minRadius * (irregular ? 1.0 - parameters.irregularity : 1.0);
  const double cap = 0.9 * rhoMin / std::exp(0.5);
  const double amplitude = std::min(parameters.max_displacement, cap);
  lesion.appliedDisplacement = amplitude;
  const std::vector<itk::Vector<double, 3>> flatAxes = FlatAxes(image, flat);
  using DisplacementField = itk::Image<itk::Vector<float, 3>, 3>;
  const FloatImage::Pointer source = ExtractRegion(image, support);
  auto                      field = DisplacementField::New();
  field->CopyInformation(source);
  field->SetRegions(source->GetLargestPossibleRegion());
  field->Allocate();
  itk::ImageRegionIteratorWithIndex<DisplacementField> f(field, field->GetLargestPossibleRegion());
  for (; !f.IsAtEnd(); ++f)
  {
    itk::Point<double, 3> p;
    field->TransformIndexToPhysicalPoint(f.GetIndex(), p);
    itk::Vector<double, 3> d = p - lesion.centre;
    const double           q = radius->GetPixel(f.GetIndex());
    const double           length = d.GetNorm();
    itk::Vector<float, 3>  displacement;
    displacement.Fill(0.0f);
    if (length > 0.0 && q <= MassEffectSupportRadius)
    {
      const double magnitude = amplitude * q * std::exp(0.5 * (1.0 - q * q));
      d *= -magnitude / length;
      for (const auto & axis : flatAxes)
      {
        d -= (d * axis) * axis;
      }
      for (unsigned int i = 0; i < 3; ++i)
      {
        displacement[i] = static_cast<float>(d[i]);
      }
      if (d.GetNorm() >= parameters.displacement_threshold && lesion.mask->GetPixel(f.GetIndex()) == 0)
      {
        lesion.mask->SetPixel(f.GetIndex(), 1);
        ++lesion.maskVoxels;
      }
    }
    f.Set(displacement);
  }
  auto warp = itk::WarpImageFilter<FloatImage, FloatImage, DisplacementField>::New();
  warp->SetInput(source);
  warp->SetDisplacementField(field);
  warp->SetOutputParametersFromImage(source);
  warp->Update();
  itk::ImageRegionIterator<FloatImage>      out(lesion.image, support);
  itk::ImageRegionConstIterator<FloatImage> warped(warp->GetOutput(), warp->GetOutput()->GetLargestPossibleRegion());
  for (; !out.IsAtEnd(); ++out, ++warped)
  {
    out.Set(warped.Get());
  }
}

} // namespace

void
SyntheticLesionParameters::Validate() const
{
  // The order of the checks is that of the messages earlier versions gave first.
  CheckGeometry(*this);
  CheckIntensityChange(*this);
  CheckKindAndShapeParameters(*this);
}

SyntheticLesion
InsertSyntheticLesion(const FloatImage * image, const SyntheticLesionParameters & parameters)
{
  if (image == nullptr)
  {
    throw ParameterError("synthetic lesion: no input image");
  }
  parameters.Validate();
  const double intensityChange = RelativeIntensityChange(parameters);
  const LesionKind kind = parameters.kind;
  const bool       irregular = parameters.shape == LesionShape::Irregular;

  const RandomStream random(parameters.seed, 0, 0, RandomPurpose::Synthesis);
  RadiusModulation   modulation;
  if (irregular)
  {
    RandomStream shapeRandom = random.Child(ShapeStream);
    modulation = RadiusModulation(shapeRandom, parameters.irregularity_degree, parameters.irregularity);
  }
  const double maxRadius = *std::max_element(parameters.radii.begin(), parameters.radii.end()) *
                           (irregular ? 1.0 + parameters.irregularity : 1.0);

  SyntheticLesion lesion;
  const bool      lowered =
    parameters.intensity_offset ? *parameters.intensity_offset < 0.0 : intensityChange < 0.0;
  lesion.kind = kind == LesionKind::Hyperintense && lowered ? LesionKind::Hypointense : kind;
  std::vector<unsigned char> object; // the object mask, when a step needed it
  if (parameters.placement == LesionPlacement::Centre)
  {
    lesion.centre = LesionCentre(image, parameters);
  }
  else
  {
    DrawLesionCentre(image, parameters, random, maxRadius, object, lesion);
  }
  const double minRadius = *std::min_element(parameters.radii.begin(), parameters.radii.end());

  const LesionWeights weights = ComputeLesionWeights(image, parameters, modulation, minRadius, lesion);
  const FloatImage *  weight = weights.weight;
  if (kind == LesionKind::Hyperintense || kind == LesionKind::Hypointense)
  {
    AddIntensityChange(image, weight, parameters, intensityChange, lesion);
  }
  else
  {
    // The other kinds change the support box of a copy of the image.
    lesion.image = CopyImage(image);
    const RegionType region = image->GetLargestPossibleRegion();
    const RegionType support = BoxRegion(weights.low, weights.high, region);
    // Dimensions of size 1 (a 2D image as a volume): blur and displacement stay in-plane.
    std::array<bool, 3> flat;
    for (unsigned int i = 0; i < 3; ++i)
    {
      flat[i] = region.GetSize()[i] == 1;
    }
    switch (kind)
    {
      case LesionKind::Cavity:
        FillCavity(image, weight, support, parameters, object, lesion);
        break;
      case LesionKind::Blur:
        BlurTissue(image, weight, weights, flat, parameters, lesion);
        break;
      case LesionKind::Noise:
        AddNoise(weight, support, parameters, random, lesion);
        break;
      case LesionKind::Inversion:
        InvertIntensities(image, weight, support, parameters, maxRadius, lesion);
        break;
      case LesionKind::MassEffect:
        DisplaceTissue(image, weights.radius, support, flat, parameters, minRadius, lesion);
        break;
      default:
        break;
    }
  }
  const auto spacing = image->GetSpacing();
  lesion.maskVolume = static_cast<double>(lesion.maskVoxels) * spacing[0] * spacing[1] * spacing[2];
  return lesion;
}

} // namespace nsa
