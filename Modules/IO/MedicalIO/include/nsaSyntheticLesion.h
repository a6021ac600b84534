#ifndef nsaSyntheticLesion_h
#define nsaSyntheticLesion_h

#include "itkImage.h"

#include <limits>
#include <string>
#include <vector>

namespace nsa
{

/** \brief Parameters of nsa::InsertSyntheticLesion.
 *
 * The lesion is an ellipsoid in physical (patient) space with its semi-axes along the
 * physical x, y and z axes, so its size in millimetres does not depend on the voxel grid.
 * Give its centre either in millimetres (`centre`) or as a continuous voxel index
 * (`centreIndex`); with neither, the centre of the image grid is used.
 */
struct SyntheticLesionParameters
{
  /** Centre as a physical point [mm] (3 values) or empty. */
  std::vector<double> centre;
  /** Centre as a continuous voxel index (3 values) or empty. */
  std::vector<double> centreIndex;
  /** Semi-axes along physical x, y, z [mm], each > 0 (default 12, 10, 8). */
  std::vector<double> radii{ 12.0, 10.0, 8.0 };
  /** Width of the smooth edge [mm]: the intensity change falls off across the surface as a
   * step blurred by a Gaussian of this standard deviation (default 1.5; 0: a sharp edge). */
  double edgeSigma = 1.5;
  /** Intensity change relative to the local tissue: the lesion core gets
   * `intensityChange * tissueIntensity` added, where tissueIntensity is the mean of the
   * image inside the lesion (default 0.5, a +50 % hyperintensity; negative: hypointense). */
  double intensityChange = 0.5;
  /** If finite: an absolute change in the image's units (HU for CT) instead of the relative
   * one (default: NaN, unset). */
  double intensityOffset = std::numeric_limits<double>::quiet_NaN();
};

/** \brief The result of nsa::InsertSyntheticLesion. */
struct SyntheticLesion
{
  /** The image with the lesion (same grid and geometry as the input). */
  itk::Image<float, 3>::Pointer         image;
  /** Binary ground truth (1 inside the ellipsoid, where the edge weight is at least 0.5). */
  itk::Image<unsigned char, 3>::Pointer mask;
  /** The lesion's centre as a physical point [mm]. */
  itk::Point<double, 3>                 centre;
  /** Mean of the input image over the lesion (edge-weighted) in the image's units. */
  double                                tissueIntensity = 0.0;
  /** Change added at the lesion core, in the image's units. */
  double                                appliedChange = 0.0;
  /** Voxels of the mask and their volume [mm^3]. */
  std::size_t                           maskVoxels = 0;
  double                                maskVolume = 0.0;
};

/** Inserts an ellipsoidal lesion with a smooth edge into `image` (a non-NSA lesion model for
 * demonstrations and tests of a detector).
 *
 * Per voxel at physical point p, with c the centre, r the semi-axes and
 * q = sqrt(sum_i ((p_i - c_i) / r_i)^2) the ellipsoidal radius, the distance to the surface
 * along the ray from the centre is s = |p - c| (1 - 1/q) (negative inside). The edge weight is
 * w = Phi(-s / edgeSigma), the standard normal CDF (the 1D Gaussian-blurred step; a sharp
 * indicator when edgeSigma is 0), and the output is image + w * appliedChange. The mask is
 * w >= 0.5, i.e. q <= 1.
 *
 * Throws nsa::ParameterError for bad parameters (wrong vector lengths, non-positive radii,
 * a centre outside the image, a lesion that covers no voxel) and nsa::InputError when the
 * relative change is asked for but the tissue intensity is not positive (use
 * intensityOffset for such images, e.g. CT in HU). */
SyntheticLesion
InsertSyntheticLesion(const itk::Image<float, 3> * image, const SyntheticLesionParameters & parameters);

} // namespace nsa

#endif
