#include "nsaPatchSampler.h"

#include "nsaError.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace nsa
{

namespace detail
{
/** An ellipse (ellipsoid) in physical offsets from the first voxel of a source box. */
template <unsigned int VDimension>
struct PatchEllipsoid
{
  double centre[VDimension];
  double inverseSemiAxis[VDimension];
  double rotation[VDimension][VDimension]; // columns are the ellipsoid's axes
};
} // namespace detail

namespace
{

constexpr double Pi = 3.14159265358979323846;

void
RandomRotation(RandomStream & stream, double (&rotation)[2][2])
{
  const double theta = stream.Uniform(0.0, Pi);
  rotation[0][0] = std::cos(theta);
  rotation[0][1] = -std::sin(theta);
  rotation[1][0] = std::sin(theta);
  rotation[1][1] = std::cos(theta);
}

void
RandomRotation(RandomStream & stream, double (&rotation)[3][3])
{
  // A unit quaternion with normally distributed components is uniform on SO(3).
  double q[4];
  double norm = 0.0;
  do
  {
    norm = 0.0;
    for (double & component : q)
    {
      component = stream.Normal(0.0, 1.0);
      norm += component * component;
    }
  } while (norm < 1e-12);
  norm = std::sqrt(norm);
  const double w = q[0] / norm, x = q[1] / norm, y = q[2] / norm, z = q[3] / norm;
  rotation[0][0] = 1 - 2 * (y * y + z * z);
  rotation[0][1] = 2 * (x * y - z * w);
  rotation[0][2] = 2 * (x * z + y * w);
  rotation[1][0] = 2 * (x * y + z * w);
  rotation[1][1] = 1 - 2 * (x * x + z * z);
  rotation[1][2] = 2 * (y * z - x * w);
  rotation[2][0] = 2 * (x * z - y * w);
  rotation[2][1] = 2 * (y * z + x * w);
  rotation[2][2] = 1 - 2 * (x * x + y * y);
}

template <unsigned int VDimension>
bool
InsideAny(const std::vector<detail::PatchEllipsoid<VDimension>> & ellipsoids, const double (&point)[VDimension])
{
  for (const auto & e : ellipsoids)
  {
    double sum = 0.0;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      double q = 0.0;
      for (unsigned int k = 0; k < VDimension; ++k)
      {
        q += e.rotation[k][axis] * (point[k] - e.centre[k]);
      }
      q *= e.inverseSemiAxis[axis];
      sum += q * q;
    }
    if (sum <= 1.0)
    {
      return true;
    }
  }
  return false;
}

/** Calls f(index) for every index of a box of the given size starting at 0, x fastest. */
template <unsigned int VDimension, typename TFunction>
void
ForEachIndex(const itk::Size<VDimension> & size, TFunction && f)
{
  itk::Index<VDimension> j;
  j.Fill(0);
  std::size_t count = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    count *= size[axis];
  }
  for (std::size_t k = 0; k < count; ++k)
  {
    f(j, k);
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      if (++j[axis] < static_cast<itk::IndexValueType>(size[axis]))
      {
        break;
      }
      j[axis] = 0;
    }
  }
}

template <unsigned int VDimension>
unsigned char
MaskValue(const itk::Image<unsigned char, VDimension> * mask, const itk::Index<VDimension> & index)
{
  return mask->GetBufferPointer()[mask->ComputeOffset(index)] != 0 ? 1 : 0;
}

std::int64_t
Clamp64(std::int64_t value, std::int64_t low, std::int64_t high)
{
  return std::max(low, std::min(high, value));
}

} // namespace

template <unsigned int VDimension>
PatchSampler<VDimension>::PatchSampler(const SynthesisParameters & parameters,
                                       const ImageBaseType *       destination,
                                       const ImageBaseType *       source,
                                       const MaskImageType *       destinationObject,
                                       const MaskImageType *       sourceObject)
  : m_Parameters(parameters)
  , m_Destination(destination)
  , m_Source(source ? source : destination)
  , m_DestinationObject(destinationObject)
  , m_SourceObject(sourceObject)
{
  if (!destination)
  {
    throw InputError("PatchSampler: no destination image");
  }
  if ((destinationObject == nullptr) != (sourceObject == nullptr))
  {
    throw InputError("PatchSampler: give object masks for both the destination and the source, or for neither");
  }
  const auto & bounds = parameters.width_bounds;
  if (bounds.size() != 2 && bounds.size() != 2 * VDimension)
  {
    throw ParameterError("width_bounds: " + std::to_string(bounds.size()) + " values do not fit a " +
                         std::to_string(VDimension) + "D image; give [low, high] or " +
                         std::to_string(VDimension) + " low/high pairs (x, y" + (VDimension == 3 ? ", z" : "") +
                         ")");
  }
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const std::size_t pair = bounds.size() == 2 ? 0 : 2 * axis;
    m_WidthLow[axis] = bounds[pair];
    m_WidthHigh[axis] = bounds[pair + 1];
    const auto destinationSize = destination->GetLargestPossibleRegion().GetSize()[axis];
    if (destinationSize < static_cast<itk::SizeValueType>(parameters.min_patch_width) + 2)
    {
      throw InputError("PatchSampler: the destination image has " + std::to_string(destinationSize) +
                       " voxels along axis " + std::to_string(axis) + ", too few for a patch of min_patch_width " +
                       std::to_string(parameters.min_patch_width) + " plus a one-voxel margin on each side");
    }
  }
  auto checkMask = [](const MaskImageType * mask, const ImageBaseType * image, const char * which) {
    if (mask && mask->GetLargestPossibleRegion() != image->GetLargestPossibleRegion())
    {
      std::ostringstream message;
      message << "PatchSampler: the " << which << " object mask covers " << mask->GetLargestPossibleRegion().GetSize()
              << " voxels, its image " << image->GetLargestPossibleRegion().GetSize();
      throw InputError(message.str());
    }
    if (mask && mask->GetBufferedRegion() != mask->GetLargestPossibleRegion())
    {
      throw InputError(std::string("PatchSampler: the ") + which + " object mask is not fully buffered");
    }
  };
  checkMask(destinationObject, destination, "destination");
  checkMask(sourceObject, m_Source, "source");
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::Sample(RandomStream & stream, double interpolationFactor) const -> std::vector<GeometryType>
{
  std::vector<GeometryType> patches;
  for (int i = 0; i < m_Parameters.num_patches; ++i)
  {
    // The first patch is always attempted, each further one on a fair coin flip.
    const bool attempt = i == 0 || stream.Bernoulli(0.5);
    if (!attempt)
    {
      GeometryType skipped;
      skipped.record.index = static_cast<unsigned int>(i);
      skipped.record.status = PatchStatus::NotDrawn;
      patches.push_back(skipped);
      continue;
    }
    RandomStream patchStream = stream.Child(static_cast<std::uint64_t>(i));
    patches.push_back(this->SamplePatch(patchStream, static_cast<unsigned int>(i), interpolationFactor));
  }
  return patches;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::DrawHalfWidths(RandomStream & stream, const AxisValues & extent, PatchRecord & record) const
  -> AxisValues
{
  const SynthesisParameters & p = m_Parameters;
  AxisValues                  halfWidth;
  record.half_width_fraction.resize(VDimension);
  if (p.patch_rule == PatchRule::CutPaste)
  {
    // CutPaste (Li et al., CVPR 2021): area (volume) fraction uniform in cutpaste_area_bounds;
    // each aspect ratio (axis a against axis 0) from [low, 1) or [1, high] on a coin flip.
    const double volume = stream.Uniform(p.cutpaste_area_bounds[0], p.cutpaste_area_bounds[1]);
    double       aspect[VDimension];
    double       product = 1.0;
    aspect[0] = 1.0;
    for (unsigned int axis = 1; axis < VDimension; ++axis)
    {
      aspect[axis] = stream.Bernoulli(0.5) ? stream.Uniform(p.cutpaste_aspect_bounds[0], 1.0)
                                           : stream.Uniform(1.0, p.cutpaste_aspect_bounds[1]);
      product *= aspect[axis];
    }
    const double first = std::pow(volume / product, 1.0 / VDimension);
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const double fraction = std::min(1.0, first * aspect[axis]);
      record.half_width_fraction[axis] = fraction / 2.0;
      halfWidth[axis] = fraction / 2.0 * extent[axis];
    }
  }
  else
  {
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const double fraction = p.gamma_lower + stream.Gamma(p.gamma_shape, p.gamma_scale);
      record.half_width_fraction[axis] = fraction;
      halfWidth[axis] = std::clamp(fraction, m_WidthLow[axis], m_WidthHigh[axis]) * extent[axis];
    }
  }
  return halfWidth;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::DrawSourceBox(RandomStream &     stream,
                                        const AxisValues & extent,
                                        const AxisValues & halfWidth) const -> RegionType
{
  const SynthesisParameters & p = m_Parameters;
  const auto                  sourceSize = m_Source->GetLargestPossibleRegion().GetSize();
  const auto                  sourceStart = m_Source->GetLargestPossibleRegion().GetIndex();
  const auto &                sourceSpacing = m_Source->GetSpacing();
  const std::int64_t          minWidth = p.min_patch_width;
  IndexType                   start;
  SizeType                    size;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const std::int64_t n = static_cast<std::int64_t>(sourceSize[axis]);
    const std::int64_t h = std::max<std::int64_t>(1, static_cast<std::int64_t>(halfWidth[axis] / sourceSpacing[axis]));
    std::int64_t       low, high;
    if (p.patch_rule == PatchRule::CutPaste)
    {
      // the whole patch inside the image
      low = std::min(h, n / 2);
      high = std::max(low, n - h - 1);
    }
    else
    {
      const std::int64_t margin = std::llround(m_WidthLow[axis] * extent[axis] / sourceSpacing[axis]);
      low = margin;
      high = n - margin - 1;
      if (high < low)
      {
        low = 0;
        high = n - 1;
      }
    }
    const std::int64_t centre = stream.UniformInteger(low, high);
    std::int64_t       first = std::max<std::int64_t>(0, centre - h);
    std::int64_t       last = std::min<std::int64_t>(n, centre + h);
    const std::int64_t needed = std::min<std::int64_t>(minWidth, n);
    if (last - first < needed)
    {
      first = Clamp64(centre - needed / 2, 0, n - needed);
      last = first + needed;
    }
    start[axis] = sourceStart[axis] + first;
    size[axis] = static_cast<itk::SizeValueType>(last - first);
  }
  RegionType region;
  region.SetIndex(start);
  region.SetSize(size);
  return region;
}

template <unsigned int VDimension>
void
PatchSampler<VDimension>::DrawEllipses(RandomStream &     stream,
                                       const SizeType &   size,
                                       const AxisValues & extent,
                                       const AxisValues & halfWidth,
                                       EllipsoidList &    ellipsoids) const
{
  // As the official code: centres uniform in the box, semi-axes between the lower width
  // bound and half the patch half-width, random orientation.
  const auto & sourceSpacing = m_Source->GetSpacing();
  ellipsoids.clear();
  for (int e = 0; e < m_Parameters.num_ellipses; ++e)
  {
    detail::PatchEllipsoid<VDimension> ellipsoid;
    RandomRotation(stream, ellipsoid.rotation);
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      ellipsoid.centre[axis] =
        static_cast<double>(stream.UniformInteger(0, static_cast<std::int64_t>(size[axis]) - 1)) * sourceSpacing[axis];
      const double low = std::max(m_WidthLow[axis] * extent[axis], sourceSpacing[axis]);
      const double high = std::max(low + sourceSpacing[axis], halfWidth[axis] / 2.0);
      ellipsoid.inverseSemiAxis[axis] = 1.0 / stream.Uniform(low, high);
    }
    ellipsoids.push_back(ellipsoid);
  }
}

template <unsigned int VDimension>
bool
PatchSampler<VDimension>::SourceObjectFraction(const RegionType &    region,
                                               const EllipsoidList & ellipsoids,
                                               double &              fraction) const
{
  const auto &    sourceSpacing = m_Source->GetSpacing();
  const IndexType start = region.GetIndex();
  std::int64_t    object = 0, area = 0;
  ForEachIndex<VDimension>(region.GetSize(), [&](const IndexType & j, std::size_t) {
    bool inShape = true;
    if (!ellipsoids.empty())
    {
      double point[VDimension];
      for (unsigned int axis = 0; axis < VDimension; ++axis)
      {
        point[axis] = static_cast<double>(j[axis]) * sourceSpacing[axis];
      }
      inShape = InsideAny(ellipsoids, point);
    }
    if (inShape)
    {
      ++area;
      IndexType voxel;
      for (unsigned int axis = 0; axis < VDimension; ++axis)
      {
        voxel[axis] = start[axis] + j[axis];
      }
      object += MaskValue(m_SourceObject, voxel);
    }
  });
  fraction = area > 0 ? static_cast<double>(object) / static_cast<double>(area) : 0.0;
  return area > 0;
}

template <unsigned int VDimension>
bool
PatchSampler<VDimension>::FindSourceRegion(RandomStream &     stream,
                                           const AxisValues & extent,
                                           const AxisValues & halfWidth,
                                           EllipsoidList &    ellipsoids,
                                           RegionType &       sourceRegion,
                                           PatchRecord &      record) const
{
  const SynthesisParameters & p = m_Parameters;
  bool                        foundSource = false;
  for (int attempt = 1; attempt <= p.max_attempts && !foundSource; ++attempt)
  {
    record.source_attempts = attempt;
    sourceRegion = this->DrawSourceBox(stream, extent, halfWidth);
    if (p.patch_shape == PatchShape::Ellipses)
    {
      this->DrawEllipses(stream, sourceRegion.GetSize(), extent, halfWidth, ellipsoids);
    }
    if (m_DestinationObject == nullptr)
    {
      foundSource = true;
      break;
    }
    const bool anyShape = this->SourceObjectFraction(sourceRegion, ellipsoids, record.source_object_fraction);
    foundSource = anyShape && record.source_object_fraction > p.min_object;
  }
  return foundSource;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::ResizedBox(RandomStream &     stream,
                                     const SizeType &   sourceBox,
                                     const AxisValues & extent,
                                     PatchRecord &      record) const -> SizeType
{
  const SynthesisParameters & p = m_Parameters;
  const auto                  destinationSize = m_Destination->GetLargestPossibleRegion().GetSize();
  const auto &                destinationSpacing = m_Destination->GetSpacing();
  const auto &                sourceSpacing = m_Source->GetSpacing();
  const std::int64_t          minWidth = p.min_patch_width;
  SizeType                    destinationBox;
  double                      sourceWidth[VDimension];
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    sourceWidth[axis] = static_cast<double>(sourceBox[axis]) * sourceSpacing[axis];
  }
  if (p.resize)
  {
    record.scale_drawn = stream.Normal(1.0, p.resize_sigma);
    double ratio = std::clamp(record.scale_drawn, p.resize_bounds[0], p.resize_bounds[1]);
    for (int axis = static_cast<int>(VDimension) - 1; axis >= 0; --axis)
    {
      ratio = std::clamp(ratio,
                         m_WidthLow[axis] * extent[axis] / sourceWidth[axis],
                         std::max(m_WidthLow[axis], m_WidthHigh[axis]) * extent[axis] / sourceWidth[axis]);
    }
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const double voxels = std::floor(ratio * sourceWidth[axis] / destinationSpacing[axis] + 1e-9);
      const double low = std::round(m_WidthLow[axis] * destinationSize[axis]);
      const double high = std::round(m_WidthHigh[axis] * destinationSize[axis]);
      destinationBox[axis] = static_cast<itk::SizeValueType>(std::max(1.0, std::clamp(voxels, low, std::max(low, high))));
    }
  }
  else
  {
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      destinationBox[axis] =
        static_cast<itk::SizeValueType>(std::max(1.0, std::round(sourceWidth[axis] / destinationSpacing[axis])));
    }
  }
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const auto limit = static_cast<std::int64_t>(destinationSize[axis]) - 2;
    destinationBox[axis] = static_cast<itk::SizeValueType>(
      std::min<std::int64_t>(limit, std::max<std::int64_t>(minWidth, static_cast<std::int64_t>(destinationBox[axis]))));
  }
  record.scale = static_cast<double>(destinationBox[0]) * destinationSpacing[0] / sourceWidth[0];
  record.destination_size.assign(destinationBox.begin(), destinationBox.end());
  return destinationBox;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::ShapeOnDestinationBox(const RegionType &    sourceRegion,
                                                const SizeType &      destinationBox,
                                                const EllipsoidList & ellipsoids) const -> BoxShape
{
  // Nearest neighbour: the voxel centre j + 1/2 of the destination box maps to source voxel
  // floor((j + 1/2) n / m).
  const bool      useObjects = m_DestinationObject != nullptr;
  const auto &    sourceSpacing = m_Source->GetSpacing();
  const IndexType sourceIndex = sourceRegion.GetIndex();
  const SizeType  sourceBox = sourceRegion.GetSize();
  std::size_t     boxVoxels = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    boxVoxels *= destinationBox[axis];
  }
  BoxShape box;
  box.shape.assign(boxVoxels, 1);
  box.sourceObject.assign(boxVoxels, 1);
  std::vector<unsigned char> & shape = box.shape;
  std::vector<unsigned char> & sourceObject = box.sourceObject;
  std::int64_t                 sourceObjectCount = 0;
  std::int64_t                 shapeVoxels = 0;
  ForEachIndex<VDimension>(destinationBox, [&](const IndexType & j, std::size_t k) {
    IndexType voxel;
    double    point[VDimension];
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const double ratio = static_cast<double>(sourceBox[axis]) / static_cast<double>(destinationBox[axis]);
      const double continuous = (static_cast<double>(j[axis]) + 0.5) * ratio - 0.5;
      point[axis] = continuous * sourceSpacing[axis];
      const auto nearest = std::min<std::int64_t>(static_cast<std::int64_t>(sourceBox[axis]) - 1,
                                                  static_cast<std::int64_t>((j[axis] + 0.5) * ratio));
      voxel[axis] = sourceIndex[axis] + nearest;
    }
    if (!ellipsoids.empty())
    {
      shape[k] = InsideAny(ellipsoids, point) ? 1 : 0;
    }
    shapeVoxels += shape[k];
    if (useObjects)
    {
      sourceObject[k] = MaskValue(m_SourceObject, voxel);
      sourceObjectCount += sourceObject[k] && shape[k];
    }
  });
  box.sourceObjectCount = sourceObjectCount;
  box.shapeVoxels = shapeVoxels;
  return box;
}

template <unsigned int VDimension>
PatchStatus
PatchSampler<VDimension>::ShiftDestination(RandomStream &   stream,
                                           const SizeType & destinationBox,
                                           const BoxShape & box,
                                           IndexType &      destinationIndex,
                                           PatchRecord &    record) const
{
  const SynthesisParameters & p = m_Parameters;
  const bool                  useObjects = m_DestinationObject != nullptr;
  const auto                  destinationSize = m_Destination->GetLargestPossibleRegion().GetSize();
  const auto                  destinationStart = m_Destination->GetLargestPossibleRegion().GetIndex();
  const double                shapeObjectFraction =
    box.shapeVoxels > 0 ? static_cast<double>(box.sourceObjectCount) / static_cast<double>(box.shapeVoxels) : 0.0;
  if (useObjects && !(shapeObjectFraction > p.min_object))
  {
    record.source_object_fraction = shapeObjectFraction;
    return PatchStatus::SourceObjectTooSmall;
  }
  bool found = false;
  for (int attempt = 1; attempt <= p.max_attempts && !found; ++attempt)
  {
    record.destination_attempts = attempt;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      destinationIndex[axis] =
        destinationStart[axis] + stream.UniformInteger(1, static_cast<std::int64_t>(destinationSize[axis]) - 1 -
                                                            static_cast<std::int64_t>(destinationBox[axis]));
    }
    if (!useObjects)
    {
      found = true;
      break;
    }
    std::int64_t overlap = 0;
    ForEachIndex<VDimension>(destinationBox, [&](const IndexType & j, std::size_t k) {
      if (box.sourceObject[k] && box.shape[k])
      {
        IndexType voxel;
        for (unsigned int axis = 0; axis < VDimension; ++axis)
        {
          voxel[axis] = destinationIndex[axis] + j[axis];
        }
        overlap += MaskValue(m_DestinationObject, voxel);
      }
    });
    record.overlap_fraction =
      box.sourceObjectCount > 0 ? static_cast<double>(overlap) / static_cast<double>(box.sourceObjectCount) : 0.0;
    found = box.sourceObjectCount > 0 && record.overlap_fraction > p.min_overlap;
  }
  if (!found)
  {
    record.destination_index.assign(destinationIndex.begin(), destinationIndex.end());
    return PatchStatus::NoDestinationLocation;
  }
  return PatchStatus::Blended;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::AlignedDestination(const RegionType & sourceRegion, const SizeType & destinationBox) const
  -> IndexType
{
  const auto                               destinationSize = m_Destination->GetLargestPossibleRegion().GetSize();
  const auto                               destinationStart = m_Destination->GetLargestPossibleRegion().GetIndex();
  const IndexType                          sourceIndex = sourceRegion.GetIndex();
  const SizeType                           sourceBox = sourceRegion.GetSize();
  itk::ContinuousIndex<double, VDimension> sourceCentre;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    sourceCentre[axis] = static_cast<double>(sourceIndex[axis]) + (static_cast<double>(sourceBox[axis]) - 1.0) / 2.0;
  }
  typename ImageBaseType::PointType centre;
  m_Source->TransformContinuousIndexToPhysicalPoint(sourceCentre, centre);
  const auto destinationCentre = m_Destination->template TransformPhysicalPointToContinuousIndex<double, double>(centre);
  IndexType  destinationIndex;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const auto first = std::llround(destinationCentre[axis] - (static_cast<double>(destinationBox[axis]) - 1.0) / 2.0) -
                       destinationStart[axis];
    destinationIndex[axis] =
      destinationStart[axis] +
      Clamp64(first, 1, static_cast<std::int64_t>(destinationSize[axis]) - 1 - static_cast<std::int64_t>(destinationBox[axis]));
  }
  return destinationIndex;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::NewBoxMask(const IndexType & destinationIndex, const SizeType & destinationBox) const ->
  typename MaskImageType::Pointer
{
  auto                         mask = MaskImageType::New();
  itk::ImageRegion<VDimension> region;
  region.SetSize(destinationBox);
  mask->SetRegions(region);
  typename MaskImageType::PointType origin;
  m_Destination->TransformIndexToPhysicalPoint(destinationIndex, origin);
  mask->SetOrigin(origin);
  mask->SetSpacing(m_Destination->GetSpacing());
  mask->SetDirection(m_Destination->GetDirection());
  mask->Allocate();
  return mask;
}

template <unsigned int VDimension>
PatchStatus
PatchSampler<VDimension>::MakeBlendMasks(const BoxShape & box, GeometryType & geometry) const
{
  const bool      useObjects = m_DestinationObject != nullptr;
  const IndexType destinationIndex = geometry.destinationRegion.GetIndex();
  const SizeType  destinationBox = geometry.destinationRegion.GetSize();
  geometry.labelMask = this->NewBoxMask(destinationIndex, destinationBox);
  geometry.poissonMask = this->NewBoxMask(destinationIndex, destinationBox);
  const std::vector<unsigned char> & shape = box.shape;
  const std::vector<unsigned char> & sourceObject = box.sourceObject;
  unsigned char *                    label = geometry.labelMask->GetBufferPointer();
  unsigned char *                    poisson = geometry.poissonMask->GetBufferPointer();
  std::int64_t                       labelCount = 0, poissonCount = 0;
  ForEachIndex<VDimension>(destinationBox, [&](const IndexType & j, std::size_t k) {
    unsigned char destinationObject = 1;
    if (useObjects)
    {
      IndexType voxel;
      for (unsigned int axis = 0; axis < VDimension; ++axis)
      {
        voxel[axis] = destinationIndex[axis] + j[axis];
      }
      destinationObject = MaskValue(m_DestinationObject, voxel);
    }
    label[k] = shape[k] && (sourceObject[k] || destinationObject) ? 1 : 0;
    bool border = false;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      border = border || j[axis] == 0 || j[axis] == static_cast<itk::IndexValueType>(destinationBox[axis]) - 1;
    }
    const bool commonBackground = useObjects && !sourceObject[k] && !destinationObject;
    poisson[k] = !border && (label[k] || commonBackground) ? 1 : 0;
    labelCount += label[k];
    poissonCount += poisson[k];
  });
  geometry.record.blended_voxels = labelCount;
  if (labelCount == 0 || (IsPoissonBlend(m_Parameters.blend_mode) && poissonCount == 0))
  {
    return PatchStatus::EmptyBlendMask;
  }
  return PatchStatus::Blended;
}

template <unsigned int VDimension>
auto
PatchSampler<VDimension>::SamplePatch(RandomStream & stream, unsigned int index, double interpolationFactor) const
  -> GeometryType
{
  GeometryType  geometry;
  PatchRecord & record = geometry.record;
  record.index = index;
  record.interpolation_factor = interpolationFactor;
  AxisValues extent; // physical extent of the destination
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    extent[axis] = static_cast<double>(m_Destination->GetLargestPossibleRegion().GetSize()[axis]) *
                   m_Destination->GetSpacing()[axis];
  }

  // 1. Patch size.
  const AxisValues halfWidth = this->DrawHalfWidths(stream, extent, record);

  // 2. Source box (and shape), with the object constraint.
  EllipsoidList ellipsoids;
  RegionType    sourceRegion;
  const bool    foundSource = this->FindSourceRegion(stream, extent, halfWidth, ellipsoids, sourceRegion, record);
  geometry.sourceRegion = sourceRegion;
  record.source_index.assign(sourceRegion.GetIndex().begin(), sourceRegion.GetIndex().end());
  record.source_size.assign(sourceRegion.GetSize().begin(), sourceRegion.GetSize().end());
  if (!foundSource)
  {
    record.status = PatchStatus::NoSourceLocation;
    return geometry;
  }

  // 3. Resize: the factor keeps the aspect ratio; like the official code, the resized full
  // width is clipped to the (half-)width bounds, so that large patches shrink. Then the
  // source object mask and the patch shape on the destination box grid.
  const SizeType destinationBox = this->ResizedBox(stream, sourceRegion.GetSize(), extent, record);
  const BoxShape box = this->ShapeOnDestinationBox(sourceRegion, destinationBox, ellipsoids);

  // 4. Destination box: shifted (drawn, with the object constraint) or at the source's place.
  IndexType destinationIndex;
  if (m_Parameters.shift)
  {
    const PatchStatus status = this->ShiftDestination(stream, destinationBox, box, destinationIndex, record);
    if (status != PatchStatus::Blended)
    {
      record.status = status;
      return geometry;
    }
  }
  else
  {
    destinationIndex = this->AlignedDestination(sourceRegion, destinationBox);
  }
  geometry.destinationRegion.SetIndex(destinationIndex);
  geometry.destinationRegion.SetSize(destinationBox);
  record.destination_index.assign(destinationIndex.begin(), destinationIndex.end());

  // 5. Masks on the destination box.
  record.status = this->MakeBlendMasks(box, geometry);
  return geometry;
}

template class PatchSampler<2>;
template class PatchSampler<3>;

} // namespace nsa
