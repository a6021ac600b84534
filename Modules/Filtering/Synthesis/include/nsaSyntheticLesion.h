#ifndef nsaSyntheticLesion_h
#define nsaSyntheticLesion_h

#include "itkImage.h"
#include "nsaModes.h"
#include "nsaParameters.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nsa
{

// The modes of a synthetic lesion, with their name tables (nsaModes.h's ModeTable; they live
// here, beside the only code that uses them, and convert like every other mode).

/** What a synthetic lesion does to the tissue (`NSAInsertLesion --kind`). */
enum class LesionKind : std::uint8_t
{
  Hyperintense, ///< brighter than the tissue
  Hypointense,  ///< darker than the tissue
  Cavity,       ///< filled towards the background (a resection cavity)
  Blur,         ///< smoothed tissue
  Noise,        ///< added noise
  Inversion,    ///< intensities mirrored within the tissue's range
  MassEffect    ///< tissue pushed away from the centre, intensities unchanged
};
template <>
struct ModeTable<LesionKind>
{
  static constexpr const char *                            What = "kind";
  static constexpr std::array<ModeName<LesionKind>, 7> Names{ { { LesionKind::Hyperintense, "hyperintense" },
                                                                    { LesionKind::Hypointense, "hypointense" },
                                                                    { LesionKind::Cavity, "cavity" },
                                                                    { LesionKind::Blur, "blur" },
                                                                    { LesionKind::Noise, "noise" },
                                                                    { LesionKind::Inversion, "inversion" },
                                                                    { LesionKind::MassEffect, "mass-effect" } } };
};

/** The outline of a synthetic lesion (`NSAInsertLesion --shape`). */
enum class LesionShape : std::uint8_t
{
  Ellipsoid, ///< an ellipsoid
  Irregular  ///< an ellipsoid whose radius is modulated by a smooth random function of direction
};
template <>
struct ModeTable<LesionShape>
{
  static constexpr const char *                             What = "shape";
  static constexpr std::array<ModeName<LesionShape>, 2> Names{ { { LesionShape::Ellipsoid, "ellipsoid" },
                                                                     { LesionShape::Irregular, "irregular" } } };
};

/** Where a synthetic lesion's centre is (`NSAInsertLesion --placement`). */
enum class LesionPlacement : std::uint8_t
{
  Centre,  ///< the given centre (or the grid's)
  Random,  ///< a random object voxel at least the largest radius from the boundary
  Deep,    ///< random, at least deep_distance from the boundary
  Cortical ///< random, within cortical_band of the boundary
};
template <>
struct ModeTable<LesionPlacement>
{
  static constexpr const char *                                 What = "placement";
  static constexpr std::array<ModeName<LesionPlacement>, 4> Names{ { { LesionPlacement::Centre, "centre" },
                                                                         { LesionPlacement::Random, "random" },
                                                                         { LesionPlacement::Deep, "deep" },
                                                                         { LesionPlacement::Cortical,
                                                                           "cortical" } } };
};

/** \brief Parameters of nsa::InsertSyntheticLesion.
 *
 * The lesion is an ellipsoid in physical (patient) space with its semi-axes along the
 * physical x, y and z axes, so its size in millimetres does not depend on the voxel grid
 * (`shape` "irregular" lobulates it). Give its centre either in millimetres (`centre`) or as
 * a continuous voxel index (`centre_index`); with neither, the centre of the image grid is
 * used (`placement` "centre"), or let a seeded draw choose it inside the object.
 *
 * What happens inside it is the `kind`; every kind has one name, the same in this struct,
 * on the command line (`NSAInsertLesion --kind`), in the documentation and in records:
 * "hyperintense", "hypointense", "cavity", "blur", "noise", "inversion", "mass-effect"
 * (the name table of nsa::LesionKind, below). The defaults (kind "hyperintense", shape "ellipsoid",
 * placement "centre") give exactly the lesion of earlier versions.
 */
struct SyntheticLesionParameters
{
  /** What the lesion does to the tissue (default "hyperintense"; see the struct's comment
   * and InsertSyntheticLesion). */
  LesionKind kind = LesionKind::Hyperintense;
  /** "ellipsoid" (default) or "irregular": the ellipsoid's radius modulated by a smooth,
   * seeded random function of direction (see `irregularity`). */
  LesionShape shape = LesionShape::Ellipsoid;
  /** "centre" (default: `centre`, `centre_index` or the grid centre), "random" (a random
   * voxel of the object at least the lesion's largest radius from its boundary), "deep"
   * (random, at least `deep_distance` from the boundary) or "cortical" (random, between
   * `cortical_band[0]` and `cortical_band[1]` from the boundary). The object is the largest
   * connected component of the image's Otsu foreground with the holes of every 2D slice along
   * every axis filled (the whole head in an MR, skull and sulci included); distances are
   * those of a signed Maurer distance map in millimetres (to the centres of the object's
   * outermost voxels). The bands are distances, not a tissue segmentation. */
  LesionPlacement placement = LesionPlacement::Centre;
  /** Seed of every random choice (irregular shape, placement, noise; default 0): the same
   * seed gives the same lesion bit for bit (nsa::RandomStream). */
  std::uint64_t seed = 0;

  /** Centre as a physical point [mm] (3 values) or empty. */
  std::vector<double> centre;
  /** Centre as a continuous voxel index (3 values) or empty. */
  std::vector<double> centre_index;
  /** Semi-axes along physical x, y, z [mm], each > 0 (default 12, 10, 8). */
  std::vector<double> radii{ 12.0, 10.0, 8.0 };
  /** Width of the smooth edge [mm]: the change falls off across the surface as a step
   * blurred by a Gaussian of this standard deviation (default 1.5; 0: a sharp edge). */
  double edge_sigma = 1.5;

  /** Kinds "hyperintense" and "hypointense": change relative to the local tissue: the lesion
   * core gets `intensity_change * tissueIntensity` added, where tissueIntensity is the mean
   * of the image inside the lesion. Unset (default): the kind's default, +0.5 (a +50 %
   * hyperintensity) or -0.5. "hypointense" needs a negative value; a negative value with
   * "hyperintense" is accepted (earlier versions' way of asking for a hypointensity) and the
   * lesion is then reported as "hypointense". */
  std::optional<double> intensity_change;
  /** Kinds "hyperintense" and "hypointense": if set, an absolute change in the image's
   * units (HU for CT) instead of the relative one (default: unset). */
  std::optional<double> intensity_offset;

  /** Kind "cavity": fraction of the way from the tissue to `cavity_level` at the core
   * (default 0.9; in (0, 1]). */
  double cavity_fill = 0.9;
  /** Kind "cavity": the level a cavity tends to; unset (default): the 2nd percentile of the
   * image inside the object (CSF or background level of a head MR). */
  std::optional<double> cavity_level;

  /** Kind "blur": standard deviation of the Gaussian blur [mm] (default 2; > 0). Only
   * in-plane for an image with a single slice. */
  double blur_sigma = 2.0;

  /** Kind "noise": standard deviation of the additive Gaussian noise relative to the tissue
   * intensity (default 0.25; > 0). */
  double noise_level = 0.25;

  /** Kind "inversion": the robust local range [lo, hi] is the `inversion_percentile`-th and
   * (100 - `inversion_percentile`)-th percentiles of the image in the box that reaches twice
   * the lesion's largest radius from its centre (default 2; in [0, 50)). */
  double inversion_percentile = 2.0;

  /** Kind "mass-effect": the largest displacement [mm] (default 4; > 0), reached on the
   * lesion's surface. Lowered, and reported, where it would fold the tissue (more than
   * 0.9 / 1.6487 of the smallest radius; see InsertSyntheticLesion). */
  double max_displacement = 4.0;
  /** Kind "mass-effect": the mask is where the displacement is at least this [mm]
   * (default 1), together with the ellipsoid itself. */
  double displacement_threshold = 1.0;

  /** Shape "irregular": largest relative change of the radius, in [0, 0.9) (default 0.35):
   * the radius along a direction is scaled by 1 + f(direction), f a random polynomial of
   * the direction's components of degrees 1 to `irregularity_degree` scaled so that its
   * largest magnitude over the sphere is `irregularity`. */
  double       irregularity = 0.35;
  /** Shape "irregular": highest degree of f (default 4; 1 to 6); higher: more lobes. */
  int          irregularity_degree = 4;

  /** Placement "deep": least distance [mm] of the centre to the object's boundary (default 25). */
  double              deep_distance = 25.0;
  /** Placement "cortical": distance band [mm] of the centre to the object's boundary
   * (default 8 to 20: near the cortex in a head MR with skull and scalp). */
  std::vector<double> cortical_band{ 8.0, 20.0 };

  /** The keys of the structure (nsaParameterJson.h), which NSAInsertLesion's flags carry;
   * `seed` is read by the program (an unsigned 64-bit value, not a key type). The ranges are
   * those a flag accepts; Validate() adds what depends on the kind, shape or vector. */
  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Choice("kind", self.kind, "What the lesion does to the tissue.");
    v.Choice("shape", self.shape, "Outline: an ellipsoid, or one lobulated by a smooth random function.");
    v.Choice("placement", self.placement, "Where the centre is: given, or drawn inside the object.");
    v.RealVector("centre", self.centre, -Unbounded, Unbounded, { 0, 3 }, "Centre as a physical point [mm].");
    v.RealVector("centre_index", self.centre_index, -Unbounded, Unbounded, { 0, 3 },
                 "Centre as a continuous voxel index.");
    v.RealVector("radii", self.radii, 0.0, Unbounded, { 3 }, "Semi-axes along physical x, y, z [mm], each > 0.");
    v.Real("edge_sigma", self.edge_sigma, 0.0, 50.0, "Width of the smooth edge [mm] (0: sharp).");
    v.OptionalReal("intensity_change", self.intensity_change, -Unbounded, Unbounded,
                   "Relative change of the tissue intensity (unset: +0.5 or -0.5 by kind).");
    v.OptionalReal("intensity_offset", self.intensity_offset, -Unbounded, Unbounded,
                   "Absolute change in the image's units, instead of the relative one.");
    v.Real("cavity_fill", self.cavity_fill, 0.05, 1.0, "Fraction of the way to the cavity level at the core.");
    v.OptionalReal("cavity_level", self.cavity_level, -Unbounded, Unbounded,
                   "Level a cavity tends to (unset: the object's 2nd percentile).");
    v.Real("blur_sigma", self.blur_sigma, 0.1, 20.0, "Standard deviation of the blur [mm].");
    v.Real("noise_level", self.noise_level, 0.01, 5.0, "Noise standard deviation relative to the tissue.");
    v.Real("inversion_percentile", self.inversion_percentile, 0.0, 49.0,
           "Percentile of the robust local range of an inversion.");
    v.Real("max_displacement", self.max_displacement, 0.1, 50.0, "Largest displacement of a mass effect [mm].");
    v.Real("displacement_threshold", self.displacement_threshold, 0.01, 50.0,
           "Least displacement inside a mass effect's mask [mm].");
    v.Real("irregularity", self.irregularity, 0.0, 0.89, "Largest relative change of the radius (irregular shape).");
    v.Integer("irregularity_degree", self.irregularity_degree, 1, 6,
              "Highest degree of the radius modulation (irregular shape).");
    v.Real("deep_distance", self.deep_distance, 0.0, Unbounded, "Least distance to the boundary, placement deep [mm].");
    v.RealVector("cortical_band", self.cortical_band, 0.0, Unbounded, { 2 },
                 "Distance band to the boundary, placement cortical [mm].");
  }

  /** Throws nsa::ParameterError for what the ranges of Visit() cannot say: vector lengths,
   * non-positive radii, a non-finite value, a hypointense lesion with a positive change. The
   * checks of InsertSyntheticLesion that need no image. */
  void
  Validate() const;
};

/** \brief The result of nsa::InsertSyntheticLesion. */
struct SyntheticLesion
{
  /** The image with the lesion (same grid and geometry as the input). */
  itk::Image<float, 3>::Pointer         image;
  /** Binary ground truth (see InsertSyntheticLesion; never empty). */
  itk::Image<unsigned char, 3>::Pointer mask;
  /** The kind made (the parameter's, except Hypointense for a negative change or offset
   * asked of Hyperintense). */
  LesionKind                            kind = LesionKind::Hyperintense;
  /** The lesion's centre as a physical point [mm]. */
  itk::Point<double, 3>                 centre;
  /** Distance of the centre to the object's boundary [mm] for the random placements
   * (NaN for placement "centre"). */
  double                                centreDepth = std::numeric_limits<double>::quiet_NaN();
  /** Mean of the input image over the lesion (edge-weighted) in the image's units. */
  double                                tissueIntensity = 0.0;
  /** Change at the lesion core in the image's units: added ("hyperintense",
   * "hypointense"), cavity_fill * (level - tissue) ("cavity"), the noise's standard
   * deviation ("noise"), lo + hi - 2 tissue ("inversion"), 0 otherwise. */
  double                                appliedChange = 0.0;
  /** Kind "inversion": the robust range used; "cavity": both are the level. NaN otherwise. */
  double                                rangeLow = std::numeric_limits<double>::quiet_NaN();
  double                                rangeHigh = std::numeric_limits<double>::quiet_NaN();
  /** Kind "mass-effect": the largest displacement applied [mm] (0 for other kinds). */
  double                                appliedDisplacement = 0.0;
  /** Voxels of the mask and their volume [mm^3]. */
  std::size_t                           maskVoxels = 0;
  double                                maskVolume = 0.0;
};

/** Inserts a synthetic lesion with a smooth edge into `image` (a non-NSA lesion model for
 * demonstrations and tests of a detector).
 *
 * Shape: per voxel at physical point p, with c the centre, r the semi-axes and
 * q = sqrt(sum_i ((p_i - c_i) / r_i)^2) the ellipsoidal radius (divided by 1 + f(u), u the
 * direction of ((p_i - c_i) / r_i), for the irregular shape), the distance to the surface
 * along the ray from the centre is s = |p - c| (1 - 1/q) (negative inside). The edge weight
 * is w = Phi(-s / edge_sigma), the standard normal CDF (the 1D Gaussian-blurred step; a sharp
 * indicator when edge_sigma is 0). The mask is w >= 0.5, i.e. q <= 1; when that holds for no
 * voxel centre (a lesion smaller than the grid), the mask is the voxel nearest the centre.
 *
 * Kinds, with v the input and t the tissue intensity (the w-weighted mean of v):
 * - "hyperintense", "hypointense": v + w * change, change = intensity_change * t or
 *   intensity_offset;
 * - "cavity": v + w * cavity_fill * (L - v), L = cavity_level;
 * - "blur": (1 - w) v + w G(v), G a Gaussian blur of blur_sigma mm (itk::DiscreteGaussianImageFilter);
 * - "noise": v + w * noise_level * t * n, n standard normal per voxel from nsa::RandomStream;
 * - "inversion": (1 - w) v + w (lo + hi - v), lo and hi robust percentiles of the image
 *   around the lesion (see inversion_percentile);
 * - "mass-effect": v(x + d(x)) resampled linearly (itk::WarpImageFilter), with the radial
 *   displacement d(x) = -A h(q) (x - c) / |x - c|, h(q) = q exp((1 - q^2) / 2) (0 at the
 *   centre, 1 on the surface, decaying outside; cut at q = 5): tissue is pushed away from
 *   the centre by up to A = max_displacement mm and the intensities are not changed. The map
 *   along each ray has slope 1 - A h'(q) / rho >= 0.1 (rho the ray's radius), which caps A at
 *   0.9 rho_min / h'(0) (h'(0) = e^(1/2)). The mask is |d| >= displacement_threshold plus the
 *   ellipsoid. Along a dimension of size 1, d has no component (a slice is warped in-plane).
 * The image outside the bounding box of w > 1e-6 (mass-effect: of q <= 5) is copied unchanged.
 *
 * Throws nsa::ParameterError for bad parameters (unknown kind, shape or placement, wrong
 * vector lengths, non-positive radii, a centre outside the image, a random placement with
 * no voxel satisfying its distance constraint) and nsa::InputError when a relative change is
 * asked for but the tissue intensity is not positive (use intensity_offset for such images,
 * e.g. CT in HU). */
SyntheticLesion
InsertSyntheticLesion(const itk::Image<float, 3> * image, const SyntheticLesionParameters & parameters);

} // namespace nsa

#endif
