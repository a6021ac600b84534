#ifndef itkSyntheticAnomalyLabelImageFilter_h
#define itkSyntheticAnomalyLabelImageFilter_h

#include "itkImage.h"
#include "itkImageToImageFilter.h"
#include "itkVectorImage.h"
#include "nsaModes.h"

#include <ostream>

namespace itk
{

/** Label modes of SyntheticAnomalyLabelImageFilter: the toolkit's nsa::LabelMode (Binary,
 * Continuous, Intensity, LogisticIntensity), the `label_mode` of the synthesis parameters,
 * printed by its one name ("binary", "continuous", "intensity", "logistic-intensity"). */
using SyntheticAnomalyLabelModeEnum = nsa::LabelMode;

/** \class SyntheticAnomalyLabelImageFilter
 * \brief The training label of a synthetic anomaly: where, and how strongly, an image was
 * changed by blending patches into it.
 *
 * Inputs: the original image (primary, "OriginalImage"), the image after blending
 * ("AnomalousImage", same grid) and the mask of the voxels the patches replaced
 * ("PatchMask", non-zero inside). With the change in normalised units
 * \f[ \Delta(x) = \frac{1}{C} \sum_c |a_c(x) - o_c(x)| \, / \, s \f]
 * (C components, s = IntensityScale image units per normalised unit) the filter computes,
 * as the official NSA implementation does (Schlüter et al., ECCV 2022, Sec. 3.2):
 * - M = median_{r1}( PatchMask and Delta > Tolerance ) (MaskMedianRadius r1 = 2: a 5x5 median
 *   that removes grain from the threshold);
 * - Binary: M; Continuous: f M (f = InterpolationFactor);
 * - Intensity: median_{r2}(M Delta) (MedianRadius r2 = 5);
 * - LogisticIntensity: M / (1 + exp(-k (median_{r2}(M Delta) - x0))).
 *
 * Medians are box medians with replicated borders, exactly BinaryMedianImageFilter's (mask)
 * and MedianImageFilter's (change) results, computed by SlidingRankMedian (several times
 * faster; see itkSlidingRankMedian.h); the paper's second median uses a disk of
 * radius 5. The label is therefore
 * non-zero only within r1 (r1 + r2 for Intensity) voxels of the patch mask, which lets
 * NaturalSyntheticAnomalyImageFilter run this filter on small regions around the patches.
 *
 * Works on the whole requested region; the inputs must share one grid.
 *
 * \ingroup NSASynthesis
 */
template <typename TImage,
          typename TMaskImage = Image<unsigned char, TImage::ImageDimension>,
          typename TLabelImage = Image<float, TImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT SyntheticAnomalyLabelImageFilter : public ImageToImageFilter<TImage, TLabelImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SyntheticAnomalyLabelImageFilter);

  using Self = SyntheticAnomalyLabelImageFilter;
  using Superclass = ImageToImageFilter<TImage, TLabelImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(SyntheticAnomalyLabelImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TImage::ImageDimension;
  using ImageType = TImage;
  using MaskImageType = TMaskImage;
  using LabelImageType = TLabelImage;
  using RealImageType = Image<float, ImageDimension>;
  using LabelModeEnum = SyntheticAnomalyLabelModeEnum;

  itkSetInputMacro(OriginalImage, ImageType);
  itkGetInputMacro(OriginalImage, ImageType);
  itkSetInputMacro(AnomalousImage, ImageType);
  itkGetInputMacro(AnomalousImage, ImageType);
  itkSetInputMacro(PatchMask, MaskImageType);
  itkGetInputMacro(PatchMask, MaskImageType);

  /** Label mode; default LogisticIntensity. */
  itkSetEnumMacro(LabelMode, LabelModeEnum);
  itkGetEnumMacro(LabelMode, LabelModeEnum);
  /** Changes at or below this (normalised units) are not labelled; default 1/255 (the
   * paper's tolerance of one grey level of an 8-bit image). */
  itkSetMacro(Tolerance, double);
  itkGetConstMacro(Tolerance, double);
  /** Radius of the binary median that cleans the change mask; default 2. */
  itkSetMacro(MaskMedianRadius, unsigned int);
  itkGetConstMacro(MaskMedianRadius, unsigned int);
  /** Radius of the median of the change for intensity labels; default 5. */
  itkSetMacro(MedianRadius, unsigned int);
  itkGetConstMacro(MedianRadius, unsigned int);
  /** Logistic slope k per normalised unit; default 21.25 (the paper's 1/12 per grey level). */
  itkSetMacro(LogisticK, double);
  itkGetConstMacro(LogisticK, double);
  /** Logistic midpoint x0 in normalised units; default 24/255. */
  itkSetMacro(LogisticX0, double);
  itkGetConstMacro(LogisticX0, double);
  /** Image units per normalised unit; default 1. */
  itkSetMacro(IntensityScale, double);
  itkGetConstMacro(IntensityScale, double);
  /** Interpolation factor written by Continuous labels; default 1. */
  itkSetClampMacro(InterpolationFactor, double, 0.0, 1.0);
  itkGetConstMacro(InterpolationFactor, double);

protected:
  SyntheticAnomalyLabelImageFilter();
  ~SyntheticAnomalyLabelImageFilter() override = default;

  void
  VerifyPreconditions() ITKv5_CONST override;
  void
  GenerateInputRequestedRegion() override;
  void
  EnlargeOutputRequestedRegion(DataObject * output) override;
  void
  GenerateData() override;
  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  LabelModeEnum m_LabelMode{ LabelModeEnum::LogisticIntensity };
  double        m_Tolerance{ 1.0 / 255.0 };
  unsigned int  m_MaskMedianRadius{ 2 };
  unsigned int  m_MedianRadius{ 5 };
  double        m_LogisticK{ 255.0 / 12.0 };
  double        m_LogisticX0{ 24.0 / 255.0 };
  double        m_IntensityScale{ 1.0 };
  double        m_InterpolationFactor{ 1.0 };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkSyntheticAnomalyLabelImageFilter.hxx"
#endif

#endif
