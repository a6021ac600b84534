#ifndef nsaSynthesis_h
#define nsaSynthesis_h

#include "nsaParameters.h"
#include "nsaPatchRecord.h"
#include "nsaRandom.h"

#include "itkImage.h"

#include <vector>

namespace nsa
{

/** \file nsaSynthesis.h
 * \brief Plain functions around itk::NaturalSyntheticAnomalyImageFilter for code that wants
 * a training example without building a pipeline (the Learning module's data loader,
 * NSASynthesize). Each call owns its filter: calls may run concurrently on separate threads.
 */

/** \class SynthesisResult
 * \brief One synthesised training example: the anomalous image, its float label (both on
 * the destination's grid) and the record of what was done.
 * \ingroup NSASynthesis
 */
template <unsigned int VDimension>
struct SynthesisResult
{
  typename itk::Image<float, VDimension>::Pointer image;
  typename itk::Image<float, VDimension>::Pointer label;
  SynthesisRecord                                 record;
};

/** Synthesises one example: patches of `source` blended into `destination`.
 *
 * `source` may be nullptr (the destination is its own source); the object masks may be
 * nullptr (then object_mask "background" / "threshold" / "otsu" computes them from the intensities,
 * "image" throws). Passing precomputed masks avoids recomputing them for every sample.
 * The result depends only on the inputs, `parameters` and `stream` (not on threads).
 * `numberOfWorkUnits` 0 keeps ITK's default; a data loader running one synthesis per
 * thread passes 1. Throws nsa::ParameterError for invalid parameters and nsa::InputError
 * for unusable images (wrong mask grid, too small); failing to place a patch is not an
 * error: it is recorded in result.record. */
template <unsigned int VDimension>
SynthesisResult<VDimension>
Synthesize(const itk::Image<float, VDimension> *         destination,
           const itk::Image<float, VDimension> *         source,
           const itk::Image<unsigned char, VDimension> * destinationMask,
           const itk::Image<unsigned char, VDimension> * sourceMask,
           const SynthesisParameters &                   parameters,
           const RandomStream &                          stream,
           unsigned int                                  numberOfWorkUnits = 0);

/** As Synthesize(), but into `result`: when `result.image` and `result.label` already buffer
 * the destination's largest possible region (for example, the previous sample of the same
 * size), their buffers are reused instead of allocating new ones, the data loader's case;
 * otherwise new ones are allocated, as Synthesize() does. The images take the destination's
 * geometry; `result.record` is replaced. Bit-identical to Synthesize(). Throws as
 * Synthesize() does, and nsa::InputError when a buffer shares memory with an input. */
template <unsigned int VDimension>
void
SynthesizeInto(SynthesisResult<VDimension> &                 result,
               const itk::Image<float, VDimension> *         destination,
               const itk::Image<float, VDimension> *         source,
               const itk::Image<unsigned char, VDimension> * destinationMask,
               const itk::Image<unsigned char, VDimension> * sourceMask,
               const SynthesisParameters &                   parameters,
               const RandomStream &                          stream,
               unsigned int                                  numberOfWorkUnits = 0);

/** The object mask the filter would use for `image` under `parameters` (object_mask
 * "background", "threshold" or "otsu", median-cleaned); nullptr for "none" and "image". Compute it
 * once per training image and pass it to Synthesize(). */
template <unsigned int VDimension>
typename itk::Image<unsigned char, VDimension>::Pointer
ComputeObjectMask(const itk::Image<float, VDimension> * image, const SynthesisParameters & parameters);

/** \class LogisticCalibration
 * \brief Logistic label parameters calibrated on a user's own data.
 * \ingroup NSASynthesis
 */
struct LogisticCalibration
{
  double logistic_k = 0.0;
  double logistic_x0 = 0.0;
  /** The 40th percentile of the normalised changes of the sampled patches. */
  double change_percentile_40 = 0.0;
  std::size_t samples = 0;  ///< synthesised examples
  std::size_t voxels = 0;   ///< labelled voxels the percentile was taken over
};

/** Calibrates logistic_k and logistic_x0 for a new modality, the way nnOOD does (Baugh et
 * al., "nnOOD: a framework for benchmarking self-supervised anomaly localisation methods",
 * 2022): synthesise `samples` examples with label_mode "intensity" from pairs of `images`
 * (image i receives patches of image i + 1), collect the normalised change of every labelled
 * voxel, and choose k, x0 so that the logistic label is 0.1 at no change and 0.99 at the
 * 40th percentile P of the changes: k = ln(99 * 9) / P, x0 = ln(9) / k. Throws
 * nsa::InputError when no patch changed any voxel. */
template <unsigned int VDimension>
LogisticCalibration
CalibrateLogisticLabel(const std::vector<typename itk::Image<float, VDimension>::Pointer> & images,
                       const SynthesisParameters &                                         parameters,
                       const RandomStream &                                                stream,
                       std::size_t                                                         samples = 500);

extern template SynthesisResult<2>
Synthesize<2>(const itk::Image<float, 2> *,
              const itk::Image<float, 2> *,
              const itk::Image<unsigned char, 2> *,
              const itk::Image<unsigned char, 2> *,
              const SynthesisParameters &,
              const RandomStream &,
              unsigned int);
extern template SynthesisResult<3>
Synthesize<3>(const itk::Image<float, 3> *,
              const itk::Image<float, 3> *,
              const itk::Image<unsigned char, 3> *,
              const itk::Image<unsigned char, 3> *,
              const SynthesisParameters &,
              const RandomStream &,
              unsigned int);
extern template void
SynthesizeInto<2>(SynthesisResult<2> &,
                  const itk::Image<float, 2> *,
                  const itk::Image<float, 2> *,
                  const itk::Image<unsigned char, 2> *,
                  const itk::Image<unsigned char, 2> *,
                  const SynthesisParameters &,
                  const RandomStream &,
                  unsigned int);
extern template void
SynthesizeInto<3>(SynthesisResult<3> &,
                  const itk::Image<float, 3> *,
                  const itk::Image<float, 3> *,
                  const itk::Image<unsigned char, 3> *,
                  const itk::Image<unsigned char, 3> *,
                  const SynthesisParameters &,
                  const RandomStream &,
                  unsigned int);
extern template itk::Image<unsigned char, 2>::Pointer
ComputeObjectMask<2>(const itk::Image<float, 2> *, const SynthesisParameters &);
extern template itk::Image<unsigned char, 3>::Pointer
ComputeObjectMask<3>(const itk::Image<float, 3> *, const SynthesisParameters &);
extern template LogisticCalibration
CalibrateLogisticLabel<2>(const std::vector<itk::Image<float, 2>::Pointer> &,
                          const SynthesisParameters &,
                          const RandomStream &,
                          std::size_t);
extern template LogisticCalibration
CalibrateLogisticLabel<3>(const std::vector<itk::Image<float, 3>::Pointer> &,
                          const SynthesisParameters &,
                          const RandomStream &,
                          std::size_t);

} // namespace nsa

#endif
