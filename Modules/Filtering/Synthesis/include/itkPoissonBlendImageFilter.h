#ifndef itkPoissonBlendImageFilter_h
#define itkPoissonBlendImageFilter_h

#include "itkImage.h"
#include "itkImageToImageFilter.h"
#include "itkVectorImage.h"
#include "nsaModes.h"

#include <ostream>
#include <vector>

namespace itk
{

/** \class PoissonBlendImageFilter
 * \brief Poisson image editing: blends a source image into a destination image inside a mask.
 *
 * Implements the discrete guided interpolation of Pérez, Gangnet and Blake, "Poisson image
 * editing", ACM SIGGRAPH 2003, Eq. (7): for every voxel p of the region Ω to replace,
 * \f[ \sum_i w_i \sum_{q \in N_i(p)} (x_p - x_q) = \sum_i w_i \sum_{q \in N_i(p)} v_{pq},
 *     \qquad x_q = d_q \text{ for } q \notin \Omega , \f]
 * where \f$ N_i(p) \f$ are the two neighbours of p along axis i, \f$ w_i = 1/h_i^2 \f$ the
 * spacing weights (UseImageSpacing; 1 otherwise), d the destination and \f$ v_{pq} \f$ the
 * guidance on the edge p–q:
 * - GradientMode Source ("seamless cloning"): \f$ v_{pq} = f (s_p - s_q) + (1-f)(d_p - d_q) \f$
 *   with the interpolation factor f (InterpolationFactor; f = 1 is plain seamless cloning);
 * - GradientMode Mixed: the source difference \f$ s_p - s_q \f$ is replaced by whichever of
 *   source and destination difference has the larger magnitude on that edge (Pérez Eq. (13));
 *   for multi-component pixels the magnitudes are summed over the components and one choice
 *   is made for all components, so channels (e.g. T1/T2/FLAIR) stay aligned.
 *
 * Formulation Exact: Ω is the mask (non-zero voxels); every voxel outside the mask is copied
 * bit for bit from the destination. Formulation Box: Ω is the mask's bounding box, edges with
 * neither end in the mask take the destination difference as guidance — the rectangle solve
 * of OpenCV's seamlessClone (without its 3-pixel mask erosion and 8-bit rounding), kept for
 * comparison with the NSA paper; destination voxels in the box but outside the mask change.
 *
 * Solver (nsa::PoissonSolver): the Box problem, and an Exact problem whose mask fills its
 * bounding box, is one direct box solve (a DST-I through FFTW along all axes but the last,
 * tridiagonal solves along the last: FACR(0)); any other mask is solved
 * by a float64 conjugate gradient preconditioned with a geometric multigrid cycle (or,
 * UseMultigrid off, with the DST solve of the bounding box); see
 * Documentation/PoissonBlending.md for the measurements behind this choice. The
 * computation is single-threaded and deterministic: the output does not depend on the number
 * of threads or work units. Separate filter instances may run concurrently (FFTW plans are
 * cached under a lock).
 *
 * Inputs (all required and on one grid: same largest possible region, origin, spacing and
 * direction): DestinationImage (the primary input), SourceImage (already resampled onto the
 * destination grid), MaskImage (non-zero = replace). The mask must keep a one-voxel margin
 * from the image border (the boundary values come from there), must not be empty, and the
 * voxels the solve reads (the mask's bounding box grown by one voxel) must be finite in both
 * images; otherwise the filter throws an itk::ExceptionObject naming the problem.
 *
 * \ingroup NSASynthesis
 */
template <typename TImage, typename TMaskImage = Image<unsigned char, TImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT PoissonBlendImageFilter : public ImageToImageFilter<TImage, TImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(PoissonBlendImageFilter);

  using Self = PoissonBlendImageFilter;
  using Superclass = ImageToImageFilter<TImage, TImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(PoissonBlendImageFilter, ImageToImageFilter);

  using ImageType = TImage;
  using MaskImageType = TMaskImage;
  using RegionType = typename ImageType::RegionType;
  using IndexType = typename ImageType::IndexType;
  using SizeType = typename ImageType::SizeType;
  using InternalPixelType = typename ImageType::InternalPixelType;
  static constexpr unsigned int ImageDimension = ImageType::ImageDimension;

  /** Which gradient guides the solution inside the mask: the toolkit's nsa::GradientMode
   * (Source, Mixed), printed by its one name ("source", "mixed"), as the blend modes
   * "poisson-source" and "poisson-mixed" and Python's `gradients=` call them. */
  using GradientModeEnum = nsa::GradientMode;
  /** Which unknowns are solved for: the mask (Exact) or its bounding box (Box, OpenCV);
   * nsa::PoissonFormulation, printed "exact" or "box". */
  using FormulationEnum = nsa::PoissonFormulation;

  /** The image to blend into; the primary input (its geometry is the output's). */
  itkSetInputMacro(DestinationImage, TImage);
  itkGetInputMacro(DestinationImage, TImage);

  /** The image whose gradients are pasted, already on the destination grid (same largest
   * possible region and geometry). */
  itkSetInputMacro(SourceImage, TImage);
  itkGetInputMacro(SourceImage, TImage);

  /** Non-zero voxels are replaced. */
  itkSetInputMacro(MaskImage, TMaskImage);
  itkGetInputMacro(MaskImage, TMaskImage);

  /** Source (default) or Mixed gradients. */
  itkSetEnumMacro(GradientMode, GradientModeEnum);
  itkGetEnumMacro(GradientMode, GradientModeEnum);

  /** Exact (default): solve on the mask; Box: solve on the mask's bounding box. */
  itkSetEnumMacro(Formulation, FormulationEnum);
  itkGetEnumMacro(Formulation, FormulationEnum);

  /** Guidance = f * source (or mixed) gradient + (1 - f) * destination gradient. Default 1. */
  itkSetClampMacro(InterpolationFactor, double, 0.0, 1.0);
  itkGetConstMacro(InterpolationFactor, double);

  /** Clamp the replaced voxels to [OutputMinimum, OutputMaximum]. Default false. */
  itkSetMacro(ClampOutput, bool);
  itkGetConstMacro(ClampOutput, bool);
  itkBooleanMacro(ClampOutput);

  /** Lower clamp bound (used with ClampOutput). Default the lowest finite float. */
  itkSetMacro(OutputMinimum, double);
  itkGetConstMacro(OutputMinimum, double);

  /** Upper clamp bound (used with ClampOutput). Default the largest finite float. */
  itkSetMacro(OutputMaximum, double);
  itkGetConstMacro(OutputMaximum, double);

  /** Weight the Laplacian by 1 / spacing^2 per axis. Default true. */
  itkSetMacro(UseImageSpacing, bool);
  itkGetConstMacro(UseImageSpacing, bool);
  itkBooleanMacro(UseImageSpacing);

  /** Exact formulation: stop the conjugate gradient at ||b - Ax|| <= tolerance ||b||.
   * Default 1e-6 (float output carries about 6e-8 relative rounding). */
  itkSetMacro(RelativeTolerance, double);
  itkGetConstMacro(RelativeTolerance, double);

  /** Exact formulation: iteration limit; not converging within it is an error. Default 1000. */
  itkSetMacro(MaximumNumberOfIterations, unsigned int);
  itkGetConstMacro(MaximumNumberOfIterations, unsigned int);

  /** Exact formulation, masks that do not fill their bounding box: precondition the conjugate
   * gradient with a geometric multigrid cycle (true, default) or with the DST solve of the
   * bounding box (false). A mask that fills its box is one direct DST solve either way. */
  itkSetMacro(UseMultigrid, bool);
  itkGetConstMacro(UseMultigrid, bool);
  itkBooleanMacro(UseMultigrid);

  /** Exact formulation with the DST preconditioner: enlarge its grid to lengths n with n + 1
   * free of primes above 7. Default true. */
  itkSetMacro(EnlargeToFastSize, bool);
  itkGetConstMacro(EnlargeToFastSize, bool);
  itkBooleanMacro(EnlargeToFastSize);

  /** After Update: the largest number of iterations over the components (1 for a direct
   * solve) and the largest relative residual ||b - Ax|| / ||b|| over the components, in
   * float64 before the rounding to the output pixel type. */
  itkGetConstMacro(NumberOfIterations, unsigned int);
  itkGetConstMacro(RelativeResidual, double);

protected:
  PoissonBlendImageFilter();
  ~PoissonBlendImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  /** Checks the parameters (clamp range, tolerance). */
  void
  VerifyPreconditions() ITKv5_CONST override;

  /** Besides the geometry checks of the superclass: the source and the mask must cover the
   * destination's largest possible region, and the source must have the destination's number
   * of components. */
  void
  VerifyInputInformation() ITKv5_CONST override;

  /** The solve is global: all inputs are requested in full. */
  void
  GenerateInputRequestedRegion() override;

  void
  EnlargeOutputRequestedRegion(DataObject * output) override;

  void
  GenerateData() override;

private:
  /** The linear system of one blend on the mask's bounding box (x fastest): which voxels are
   * unknowns, and per component (one block of box voxels after the other) the right-hand
   * side b and the initial guess, then the solution. */
  struct LinearSystem
  {
    std::vector<unsigned char> unknowns;
    std::vector<double>        rhs;
    std::vector<double>        solution;
  };

  // The steps of GenerateData, in order.
  /** The bounding box of the mask's non-zero voxels; throws when there is none. */
  RegionType
  MaskBoundingBox(const RegionType & imageRegion) const;
  /** Throws unless `box` leaves a one-voxel margin inside `imageRegion` (the Dirichlet
   * boundary values). */
  void
  VerifyMarginAroundMask(const RegionType & box, const RegionType & imageRegion) const;
  /** Throws where the destination or the source has a non-finite value in `paddedRegion`. */
  void
  VerifyFiniteValues(const RegionType & paddedRegion) const;
  /** The Laplacian's weights 1 / h_i^2 (all 1 without UseImageSpacing). */
  std::vector<double>
  LaplacianWeights() const;
  /** The unknowns on the box grid, the right-hand side b (Pérez Eq. 7 with the Dirichlet
   * values moved to the right) and the initial guess, per component; read straight from the
   * image buffers (the mask keeps a one-voxel margin, so every neighbour exists). */
  void
  AssembleSystem(const RegionType & boxRegion, const std::vector<double> & weights, LinearSystem & system) const;
  /** Solves the system of every component in place; records the iterations and residuals. */
  void
  SolveSystem(const RegionType & boxRegion, const std::vector<double> & weights, LinearSystem & system);
  /** Writes the solved voxels into the output (clamped when ClampOutput is on). */
  void
  WriteSolution(const RegionType & boxRegion, const LinearSystem & system);

  GradientModeEnum m_GradientMode{ GradientModeEnum::Source };
  FormulationEnum  m_Formulation{ FormulationEnum::Exact };
  double           m_InterpolationFactor{ 1.0 };
  bool             m_ClampOutput{ false };
  double           m_OutputMinimum;
  double           m_OutputMaximum;
  bool             m_UseImageSpacing{ true };
  double           m_RelativeTolerance{ 1e-6 };
  unsigned int     m_MaximumNumberOfIterations{ 1000 };
  bool             m_UseMultigrid{ true };
  bool             m_EnlargeToFastSize{ true };
  unsigned int     m_NumberOfIterations{ 0 };
  double           m_RelativeResidual{ 0.0 };
};

// The instantiations the toolkit uses are compiled once, in src/itkPoissonBlendImageFilter.cxx.
extern template class PoissonBlendImageFilter<Image<float, 2>>;
extern template class PoissonBlendImageFilter<Image<float, 3>>;
extern template class PoissonBlendImageFilter<VectorImage<float, 2>>;
extern template class PoissonBlendImageFilter<VectorImage<float, 3>>;

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkPoissonBlendImageFilter.hxx"
#endif

#endif
