#ifndef itkNaturalSyntheticAnomalyImageFilter_h
#define itkNaturalSyntheticAnomalyImageFilter_h

#include "nsaParameters.h"
#include "nsaPatchRecord.h"
#include "nsaPatchSampler.h"
#include "nsaRandom.h"

#include "itkImage.h"
#include "itkImageToImageFilter.h"
#include "itkVectorImage.h"

namespace itk
{

/** \class NaturalSyntheticAnomalyImageFilter
 * \brief Turns two normal images into one training example of Natural Synthetic Anomalies
 * (NSA): the destination with patches of the source resized, moved and blended into it, and
 * a float label of where and how strongly it changed.
 *
 * Schlüter, Tan, Hou, Kainz, "Natural Synthetic Anomalies for Self-supervised Anomaly
 * Detection and Localization", ECCV 2022 (arXiv 2109.15222), Sec. 3; the semantics and the
 * defaults follow the official implementation (hmsch/natural-synthetic-anomalies,
 * `self_sup_data/self_sup_tasks.py`), extended to 3D, float intensities in the image's own
 * units and physical space.
 *
 * Inputs (named):
 * - "DestinationImage" (primary, required): the image that receives the patches;
 * - "SourceImage" (optional): where patches come from; the destination itself when absent.
 *   It may live in another physical space and have another size and spacing
 *   (VerifyInputInformation is relaxed, as in PasteImageFilter): patch sizes are physical,
 *   patches are transferred along index axes;
 * - "DestinationMask", "SourceMask" (optional): object masks (non-zero = object), on the
 *   grid of their image. Without them, object_mask "background" and "threshold" compute the
 *   masks from the intensities ("otsu" too; cleaned by a majority filter of radius
 *   object_median_radius, then shrunk by object_erosion); object_mask "image" requires them
 *   (used as given); "none" ignores them.
 *
 * Outputs: 0 the anomalous image (TImage, the destination's geometry), 1 the label
 * (TLabelImage, same geometry).
 *
 * Parameters: an nsa::SynthesisParameters (the keys of the presets and of NSASynthesize's
 * flags) and an nsa::RandomStream. The whole patch geometry is drawn from the stream in
 * GenerateData before any (multi-threaded) image operation, so the outputs are a pure
 * function of the inputs, the parameters and the stream, whatever the number of threads.
 * GetRecord() tells what was done: boxes, scales, interpolation factor and, for every patch,
 * blended or why not (a failure to place a patch is recorded, not thrown).
 *
 * GenerateData works on small regions: the source box is copied out (the grid that
 * RegionOfInterestImageFilter would give it) and resampled onto the destination box with
 * LinearInterpolateImageFunction, exactly as ResampleImageFilter would do it under the
 * identity transform (linear: a patch is resized at most by the factors of resize_bounds,
 * where linear interpolation neither rings nor overshoots, unlike B-splines, and matches
 * OpenCV's default resize used by the paper); PoissonBlendImageFilter (poisson-source,
 * poisson-mixed, poisson-uniform; one instance for all patches of a sample) or a convex
 * combination (swap, uniform) blends it into the working image; the label
 * (SyntheticAnomalyLabelImageFilter with its medians) is computed only on regions around
 * the patches, where it can be non-zero. Region copies replace the RegionOfInterest,
 * Resample and Paste filter pipelines of earlier versions, whose set-up cost more than
 * their work on 2D patches (Documentation/Synthesis.md, Performance); the results are
 * the same bit for bit.
 *
 * \ingroup NSASynthesis
 */
template <typename TImage,
          typename TMaskImage = Image<unsigned char, TImage::ImageDimension>,
          typename TLabelImage = Image<float, TImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT NaturalSyntheticAnomalyImageFilter : public ImageToImageFilter<TImage, TImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(NaturalSyntheticAnomalyImageFilter);

  using Self = NaturalSyntheticAnomalyImageFilter;
  using Superclass = ImageToImageFilter<TImage, TImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(NaturalSyntheticAnomalyImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TImage::ImageDimension;
  using ImageType = TImage;
  using MaskImageType = TMaskImage;
  using LabelImageType = TLabelImage;
  using RegionType = typename ImageType::RegionType;

  itkSetInputMacro(DestinationImage, ImageType);
  itkGetInputMacro(DestinationImage, ImageType);
  itkSetInputMacro(SourceImage, ImageType);
  itkGetInputMacro(SourceImage, ImageType);
  itkSetInputMacro(DestinationMask, MaskImageType);
  itkGetInputMacro(DestinationMask, MaskImageType);
  itkSetInputMacro(SourceMask, MaskImageType);
  itkGetInputMacro(SourceMask, MaskImageType);

  /** The synthesis parameters; default nsa::SynthesisParameters{} (the paper's). Validated
   * in VerifyPreconditions. */
  void
  SetParameters(const nsa::SynthesisParameters & parameters)
  {
    m_Parameters = parameters;
    this->Modified();
  }
  const nsa::SynthesisParameters &
  GetParameters() const
  {
    return m_Parameters;
  }

  /** The random stream of this sample; default nsa::RandomStream(0). Copied: every Update()
   * with the same stream gives the same result. */
  void
  SetRandomStream(const nsa::RandomStream & stream)
  {
    m_RandomStream = stream;
    this->Modified();
  }
  const nsa::RandomStream &
  GetRandomStream() const
  {
    return m_RandomStream;
  }
  /** Shorthand for SetRandomStream(nsa::RandomStream(seed, epoch, index, Synthesis)). */
  void
  SetSeed(uint64_t seed, uint64_t epoch = 0, uint64_t index = 0)
  {
    this->SetRandomStream(nsa::RandomStream(seed, epoch, index, nsa::RandomPurpose::Synthesis));
  }

  /** What the last Update() did. */
  const nsa::SynthesisRecord &
  GetRecord() const
  {
    return m_Record;
  }

  using ObjectMaskType = Image<unsigned char, ImageDimension>;

  /** The object mask used for `image` under the current parameters: nullptr for
   * object_mask "none"; `given` (binarised) when not null; otherwise computed from the
   * intensities (|channel mean - background_intensity| > background_tolerance, channel
   * mean > object_threshold, or channel mean > Otsu's threshold), cleaned by a majority
   * (binary median) filter of radius object_median_radius and shrunk by object_erosion
   * (ErodeObjectMask). Compute it once per training image and pass it as input to save
   * time. */
  typename ObjectMaskType::Pointer
  ComputeObjectMask(const ImageType * image, const MaskImageType * given = nullptr) const;

  /** Shrinks `mask` in place to the voxels at least object_erosion (physical units) inside
   * its hole-filled outline, and returns it; unchanged when object_erosion is 0. */
  typename ObjectMaskType::Pointer
  ErodeObjectMask(ObjectMaskType * mask) const;

  /** Images whose pixel buffers receive the anomalous image and the label instead of new
   * ones, reused across updates (a data loader's per-worker buffers: no allocation, no fresh
   * pages to fault in). Each is used only when it buffers exactly the destination's largest
   * possible region (with its number of components) and shares no memory with the inputs;
   * otherwise, and by default (nullptr), the filter allocates. The buffer images take the
   * destination's geometry and the outputs share their buffers. The result is the same bit
   * for bit either way. */
  itkSetObjectMacro(ImageBuffer, ImageType);
  itkGetModifiableObjectMacro(ImageBuffer, ImageType);
  itkSetObjectMacro(LabelBuffer, LabelImageType);
  itkGetModifiableObjectMacro(LabelBuffer, LabelImageType);

  /** The label image (output 1). */
  LabelImageType *
  GetLabelOutput();
  const LabelImageType *
  GetLabelOutput() const;

  using DataObjectPointerArraySizeType = ProcessObject::DataObjectPointerArraySizeType;
  using Superclass::MakeOutput;
  DataObject::Pointer
  MakeOutput(DataObjectPointerArraySizeType index) override;

protected:
  NaturalSyntheticAnomalyImageFilter();
  ~NaturalSyntheticAnomalyImageFilter() override = default;

  /** The source may have another grid than the destination. */
  void
  VerifyInputInformation() ITKv5_CONST override;
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
  using PatchGeometryType = nsa::PatchGeometry<ImageDimension>;

  double
  LabelIntensityScale(const ImageType * image) const;

  // The steps of GenerateData, in order.
  /** Whether `buffer` (SetImageBuffer, SetLabelBuffer) can receive an output: it buffers the
   * destination's largest possible region with `components` components. Throws when it
   * shares memory with an input. */
  template <typename TBuffer>
  bool
  IsReusableBuffer(const TBuffer * buffer, unsigned int components) const;
  /** A copy of the destination that the patches are blended into (in the ImageBuffer when
   * it can be reused). */
  typename ImageType::Pointer
  MakeWorkingImage() const;
  /** The label image, all zero (in the LabelBuffer when it can be reused). */
  typename LabelImageType::Pointer
  MakeLabelImage() const;
  /** The object mask of `image`: nullptr for object_mask "none", `given` itself when it has
   * the object mask's type, otherwise ComputeObjectMask. */
  typename ObjectMaskType::ConstPointer
  ObjectMaskFor(const ImageType * image, const MaskImageType * given) const;
  /** The geometry of every patch slot, drawn from a copy of the random stream. */
  std::vector<PatchGeometryType>
  DrawPatches(const ImageType *      source,
              const ObjectMaskType * destinationObject,
              const ObjectMaskType * sourceObject,
              double                 factor) const;
  /** Blends the source patches into `working`, in order, and records every patch slot. */
  void
  BlendPatches(const std::vector<PatchGeometryType> & patches,
               const ImageType *                      source,
               ImageType *                            working,
               double                                 factor);
  /** The regions around the blended patches where the label can be non-zero, merged where
   * they overlap. */
  std::vector<RegionType>
  LabelRegions(const std::vector<PatchGeometryType> & patches) const;
  /** Computes the label of one region (LabelRegions) into `label`. */
  void
  LabelRegion(const RegionType &                     group,
              const std::vector<PatchGeometryType> & patches,
              const ImageType *                      working,
              LabelImageType *                       label,
              double                                 factor,
              double                                 labelScale) const;

  nsa::SynthesisParameters m_Parameters;
  nsa::RandomStream        m_RandomStream{ 0 };
  nsa::SynthesisRecord     m_Record;
  typename ImageType::Pointer      m_ImageBuffer;
  typename LabelImageType::Pointer m_LabelBuffer;
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkNaturalSyntheticAnomalyImageFilter.hxx"
#endif

namespace itk
{
// The instantiations the toolkit uses are compiled once, in src/itkNaturalSyntheticAnomalyImageFilter.cxx.
extern template class NaturalSyntheticAnomalyImageFilter<Image<float, 2>>;
extern template class NaturalSyntheticAnomalyImageFilter<Image<float, 3>>;
extern template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 2>>;
extern template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 3>>;
} // namespace itk

#endif
