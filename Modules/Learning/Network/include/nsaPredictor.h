#ifndef nsaPredictor_h
#define nsaPredictor_h

#include "nsaModel.h"
#include "nsaProgress.h"

#include "itkImage.h"

#include <vector>

namespace nsa
{

/** The voxel axis (0, 1, 2) across which 2D slices of `image` are cut for the patient axis
 * `patientAxis` (0 = x, 1 = y, 2 = z, in ITK's LPS physical space): the voxel axis whose
 * direction has the largest component along it (the patient axis itself on a tie, as for an
 * axis-aligned grid). A volume with a single voxel along some axis is a 2D image: that axis
 * (the last such one) is returned whatever `patientAxis` says. Training and prediction both
 * use it, so a model sees the same anatomical slices whatever order a study's voxels are
 * stored in. */
int
SliceAxisOf(const itk::ImageBase<3> * image, int patientAxis);

/** \class Predictor
 * \brief Applies a model to a normalised study and returns the anomaly score map with the
 * study's exact geometry (size, origin, spacing, direction).
 *
 * - A 2D model runs over a volume slice by slice across `slice_axis`, a patient axis (0 = x,
 *   sagittal slices; 1 = y, coronal; 2 = z, axial): the slices are cut across the voxel axis
 *   that runs closest to it (SliceAxisOf), so that a study stored sagittal-first is still cut
 *   axially by an axial model. `batch_size` slices per forward pass. A 2D image (or a volume
 *   with one slice) is a single slice.
 * - A 3D model runs over a volume by sliding windows of `window_size` voxels (x, y, z; empty:
 *   the training crop size, or the whole volume when training used none) overlapping by
 *   `window_overlap`; overlapping predictions are blended with a Gaussian weight (σ = 1/8
 *   of the window per axis, highest at the window centre), which suppresses the seams
 *   a hard tiling leaves where a window's border lacks context.
 * - The network needs sizes that are multiples of 32: slices and windows are padded
 *   (centred) with the lowest normalised intensity (the normalisation's output_range[0]),
 *   the value training pads with, and the padding is cropped from the output.
 *
 * Inputs must be normalised as the model's description says (nsa::Normalise of the IO
 * module does that); the channels of one case share one geometry. The network runs on
 * `device` (auto: CUDA when available) in evaluation mode without gradients.
 */
class Predictor
{
public:
  using VolumeType = itk::Image<float, 3>;
  using SliceType = itk::Image<float, 2>;

  Predictor(Model model, const PredictionParameters & parameters);

  /** The score map of a normalised volume (one image per input channel). */
  VolumeType::Pointer
  Predict(const std::vector<const VolumeType *> & channels, ProgressObserver * progress = nullptr) const;
  VolumeType::Pointer
  Predict(const VolumeType * image, ProgressObserver * progress = nullptr) const;

  /** The score map of a normalised 2D image (2D models only). */
  SliceType::Pointer
  Predict(const std::vector<const SliceType *> & channels, ProgressObserver * progress = nullptr) const;
  SliceType::Pointer
  Predict(const SliceType * image, ProgressObserver * progress = nullptr) const;

  const PredictionParameters &
  GetParameters() const
  {
    return m_Parameters;
  }

private:
  Model                m_Model;
  PredictionParameters m_Parameters;
};

/** \brief The case scores of a map: the paper's mean, a high percentile and a top-k mean. */
struct CaseScores
{
  double mean = 0.0;
  double percentile = 0.0; ///< PredictionParameters::score_percentile (linear interpolation)
  double top_k_mean = 0.0; ///< mean of the ceil(top_k_fraction · n) highest scores
  /** The one PredictionParameters::case_score selects. */
  double selected = 0.0;
};

/** Case scores of a score map, over the voxels where `mask` is non-zero when a mask is given
 * (same size as the map; throws InputError otherwise or when the mask is empty). */
CaseScores
ComputeCaseScores(const itk::Image<float, 3> *        map,
                  const PredictionParameters &        parameters,
                  const itk::Image<unsigned char, 3> * mask = nullptr);
CaseScores
ComputeCaseScores(const itk::Image<float, 2> *        map,
                  const PredictionParameters &        parameters,
                  const itk::Image<unsigned char, 2> * mask = nullptr);

/** The same from plain values. */
CaseScores
ComputeCaseScores(std::vector<float> values, const PredictionParameters & parameters);

} // namespace nsa

#endif
