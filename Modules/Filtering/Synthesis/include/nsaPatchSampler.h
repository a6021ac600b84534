#ifndef nsaPatchSampler_h
#define nsaPatchSampler_h

#include "nsaParameters.h"
#include "nsaPatchRecord.h"
#include "nsaRandom.h"

#include "itkImage.h"
#include "itkImageRegion.h"

#include <array>
#include <cstdint>
#include <vector>

namespace nsa
{

namespace detail
{
/** One ellipse (ellipsoid) of the patch shape "ellipses"; defined in nsaPatchSampler.cxx. */
template <unsigned int VDimension>
struct PatchEllipsoid;
} // namespace detail

/** \class PatchGeometry
 * \brief One patch as drawn by PatchSampler: where it comes from, where it goes, and which
 * destination voxels it may change.
 *
 * The masks live on the destination box: index 0, size = destinationRegion's size, origin at
 * the physical point of destinationRegion's first voxel, spacing and direction of the
 * destination: the same grid as itk::RegionOfInterestImageFilter's output for that box.
 * \ingroup NSASynthesis
 */
template <unsigned int VDimension>
struct PatchGeometry
{
  using MaskImageType = itk::Image<unsigned char, VDimension>;
  using RegionType = itk::ImageRegion<VDimension>;

  RegionType sourceRegion;
  RegionType destinationRegion;
  /** Voxels the patch replaces: patch shape and (source object or destination object). This
   * is the paper's patch mask, the region that labels are computed from. */
  typename MaskImageType::Pointer labelMask;
  /** Region of the Poisson solve: labelMask plus voxels that are background in both images
   * (which avoids seams along object borders, as the paper does), minus the box border (the
   * Dirichlet boundary takes destination values there). */
  typename MaskImageType::Pointer poissonMask;
  PatchRecord                     record;
};

/** \class PatchSampler
 * \brief Draws the patch geometry of one NSA sample from a RandomStream, before any image
 * is touched (Schlüter et al., ECCV 2022, Sec. 3.1; the official code's `patch_ex`).
 *
 * For each of num_patches slots (the first always, the others on a fair coin flip):
 * - half-widths per axis, as fractions of the destination's physical extent, from
 *   gamma_lower + Gamma(gamma_shape, gamma_scale) clipped to width_bounds (patch_rule
 *   "gamma"), or CutPaste's area / aspect rule (patch_rule "cutpaste");
 * - a source box: centre uniform, box clipped to the source image; with object masks it
 *   must hold more than min_object object voxels (max_attempts tries); patch_shape
 *   "ellipses" fills the box with num_ellipses random ellipses (ellipsoids in 3D);
 * - a resize factor s ~ Normal(1, resize_sigma) clipped to resize_bounds; like the official
 *   code, the resized full width is then clipped to the width bounds;
 * - a destination box with a one-voxel margin (shift) or at the source's physical position,
 *   accepted when more than min_overlap of the resized source object lands on destination
 *   object (max_attempts tries).
 *
 * Sizes follow physical extents: a box of physical width w covers w / spacing voxels in
 * each image, so a source and a destination with different spacings still exchange
 * patches of the intended physical size. Patches are transferred along index axes.
 * Failures are recorded in the PatchRecord, never printed or thrown.
 * \ingroup NSASynthesis
 */
template <unsigned int VDimension>
class PatchSampler
{
public:
  using ImageBaseType = itk::ImageBase<VDimension>;
  using MaskImageType = itk::Image<unsigned char, VDimension>;
  using GeometryType = PatchGeometry<VDimension>;

  /** Object masks may be nullptr (no object constraint). The images are only used for their
   * geometry. Throws ParameterError for width_bounds that do not match the dimension and for
   * images too small to hold a patch. */
  PatchSampler(const SynthesisParameters & parameters,
               const ImageBaseType *       destination,
               const ImageBaseType *       source,
               const MaskImageType *       destinationObject,
               const MaskImageType *       sourceObject);

  /** Draws all patch slots of one sample. `interpolationFactor` is only copied into records. */
  std::vector<GeometryType>
  Sample(RandomStream & stream, double interpolationFactor) const;

  /** Draws one patch slot (no coin flip); `stream` should be dedicated to this patch. */
  GeometryType
  SamplePatch(RandomStream & stream, unsigned int index, double interpolationFactor) const;

  /** Lower and upper half-width bounds of an axis, as fractions of the destination extent. */
  double
  WidthBoundLow(unsigned int axis) const
  {
    return m_WidthLow[axis];
  }
  double
  WidthBoundHigh(unsigned int axis) const
  {
    return m_WidthHigh[axis];
  }

private:
  using IndexType = itk::Index<VDimension>;
  using SizeType = itk::Size<VDimension>;
  using RegionType = itk::ImageRegion<VDimension>;
  using AxisValues = std::array<double, VDimension>;
  using EllipsoidList = std::vector<detail::PatchEllipsoid<VDimension>>;

  /** The patch shape and the source object mask on the destination box (x fastest), and
   * their voxel counts (source object voxels counted inside the shape only). */
  struct BoxShape
  {
    std::vector<unsigned char> shape;
    std::vector<unsigned char> sourceObject;
    std::int64_t               sourceObjectCount = 0;
    std::int64_t               shapeVoxels = 0;
  };

  // The steps of SamplePatch, in order; each draws from `stream` as SamplePatch documents.
  /** The half-widths [mm] of a patch (gamma or CutPaste rule); records the drawn fractions. */
  AxisValues
  DrawHalfWidths(RandomStream & stream, const AxisValues & extent, PatchRecord & record) const;
  /** Draws source boxes (and ellipses) until one holds enough object (max_attempts tries);
   * false when none does. */
  bool
  FindSourceRegion(RandomStream &     stream,
                   const AxisValues & extent,
                   const AxisValues & halfWidth,
                   EllipsoidList &    ellipsoids,
                   RegionType &       sourceRegion,
                   PatchRecord &      record) const;
  /** One source box: centre uniform (within the margins), clipped to the source image. */
  RegionType
  DrawSourceBox(RandomStream & stream, const AxisValues & extent, const AxisValues & halfWidth) const;
  /** The num_ellipses random ellipses (ellipsoids) of a source box of `size` voxels. */
  void
  DrawEllipses(RandomStream &     stream,
               const SizeType &   size,
               const AxisValues & extent,
               const AxisValues & halfWidth,
               EllipsoidList &    ellipsoids) const;
  /** The fraction of the patch shape in `region` that is source object; false when the shape
   * holds no voxel. */
  bool
  SourceObjectFraction(const RegionType & region, const EllipsoidList & ellipsoids, double & fraction) const;
  /** The destination box size: the source box resized by a drawn factor (resize) or by the
   * spacing ratio alone, clipped to the width bounds and the image. */
  SizeType
  ResizedBox(RandomStream & stream, const SizeType & sourceBox, const AxisValues & extent, PatchRecord & record) const;
  /** The patch shape and the source object mask resampled (nearest) onto the destination box. */
  BoxShape
  ShapeOnDestinationBox(const RegionType &    sourceRegion,
                        const SizeType &      destinationBox,
                        const EllipsoidList & ellipsoids) const;
  /** Draws the destination box's index (one-voxel margin) until enough of the source object
   * lands on destination object; Blended, or the status of the failure. */
  PatchStatus
  ShiftDestination(RandomStream &   stream,
                   const SizeType & destinationBox,
                   const BoxShape & box,
                   IndexType &      destinationIndex,
                   PatchRecord &    record) const;
  /** The destination box's index at the physical position of the source box's centre. */
  IndexType
  AlignedDestination(const RegionType & sourceRegion, const SizeType & destinationBox) const;
  /** An allocated mask on the destination box's grid (see PatchGeometry). */
  typename MaskImageType::Pointer
  NewBoxMask(const IndexType & destinationIndex, const SizeType & destinationBox) const;
  /** The label and Poisson masks of `geometry`'s destination box; Blended, or EmptyBlendMask. */
  PatchStatus
  MakeBlendMasks(const BoxShape & box, GeometryType & geometry) const;

  const SynthesisParameters & m_Parameters;
  const ImageBaseType *       m_Destination;
  const ImageBaseType *       m_Source;
  const MaskImageType *       m_DestinationObject;
  const MaskImageType *       m_SourceObject;
  double                      m_WidthLow[VDimension];
  double                      m_WidthHigh[VDimension];
};

extern template class PatchSampler<2>;
extern template class PatchSampler<3>;

} // namespace nsa

#endif
