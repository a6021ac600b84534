#ifndef nsaTrainer_h
#define nsaTrainer_h

#include "nsaDistributed.h"
#include "nsaModel.h"
#include "nsaProgress.h"

#include "itkImage.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nsa
{

/** \brief One normal training image, already normalised (nsa::Normalise), with an optional
 * object mask on its grid (used when synthesis.object_mask is "image"; otherwise the
 * synthesis computes masks itself). A 2D image is a volume with one slice. */
struct TrainingImage
{
  itk::Image<float, 3>::Pointer         image;
  itk::Image<unsigned char, 3>::Pointer mask;
  std::string                           name;
};

/** \brief Where the trainer writes and how a run is controlled. Empty paths take defaults
 * derived from `model_path` (`<model_path without .pt>.checkpoint.pt`, `.log.jsonl`,
 * `.loss.png`, `.example-<epoch>.png`). */
struct TrainerOptions
{
  std::string model_path;
  std::string checkpoint_path;
  std::string log_path;
  std::string loss_curve_path;
  std::string example_prefix;
  /** Continue from `checkpoint_path` (which must exist and describe the same run). */
  bool resume = false;
  /** Stop (as if killed) after this many epochs of this run have completed and been
   * checkpointed; 0: train to the end. For tests of resume. */
  int stop_after_epochs = 0;
  /** LibTorch intra-op threads for the network (0: the CPUs this process may use, less one
   * for the synthesis workers from 2 CPUs on; see nsa::DefaultNetworkThreads). */
  int torch_threads = 0;
  /** Data-parallel training: this process's rank among `world_size` (nsa::ReadDistributedEnvironment);
   * the default trains alone. training.batch_size is per rank: a step takes
   * batch_size × world_size samples, an epoch still samples_per_epoch. Only rank 0 writes. */
  DistributedEnvironment distributed;
};

/** \brief One synthesised, augmented, padded training example as flat buffers in tensor
 * order ([C, H, W] or [C, D, H, W], x fastest), for the benchmark and tests. */
struct TrainingSample
{
  std::vector<float>        image;
  std::vector<float>        label;
  std::vector<std::int64_t> sizes; ///< spatial sizes, tensor order (z, y, x) or (y, x)
  unsigned int              blended_patches = 0;
};

/** \class Trainer
 * \brief Trains the NSA network on anomalies synthesised on the fly from normal images.
 *
 * Per epoch e and sample index i (an epoch has training.samples_per_epoch samples, or one per
 * training unit: a slice with content across training.slice_axis for 2D models, a volume
 * for 3D models), the data pipeline draws the destination unit from a shuffled order and a
 * different source unit, each augmented (random crop to crop_size, flips, in-plane rotation
 * up to rotation_degrees), runs nsa::Synthesize with the model's synthesis parameters and
 * pads the pair (centred, to multiples of 32) with the normalisation's lowest output value.
 * Every random draw comes from nsa::RandomStream(seed, e, i, purpose), so a sample does not
 * depend on the worker thread that makes it; `training.num_workers` threads (std::thread)
 * work ahead of the network by a bounded number of batches.
 *
 * The network is trained with Adam (learning_rate, weight_decay) and cosine annealing from
 * learning_rate to min_learning_rate over `epochs` (stepped per epoch, as PyTorch's
 * CosineAnnealingLR), with BCE (on logits; equal to BCE of the sigmoid output) or MSE on the
 * ReLU output. Each epoch appends a JSON line (EpochRecord) to the log; a checkpoint with the
 * optimizer and scheduler state is written atomically every checkpoint_every epochs, an
 * example picture (input | label | prediction rows) every example_every epochs, the loss
 * curve and the final model at the end. On the CPU a resumed run gives the same weights as
 * an uninterrupted one (same thread count).
 *
 * Mixed precision (training.mixed_precision, CUDA only): autocast of the forward pass to
 * float16 with dynamic loss scaling (LibTorch 1.13 has no C++ GradScaler).
 */
class Trainer
{
public:
  /** Throws ParameterError for unsupported settings and InputError for unusable images. */
  Trainer(ModelDescription description, std::vector<TrainingImage> images, TrainerOptions options);
  ~Trainer();

  /** Runs (or resumes) training; returns the trained model (also written to model_path
   * unless the run stopped early because of stop_after_epochs). */
  Model
  Train(ProgressObserver * progress = nullptr);

  /** Number of training units (slices or volumes). */
  std::size_t
  NumberOfUnits() const;

  /** Sample `index` of `epoch` as the pipeline makes it. */
  TrainingSample
  MakeSample(int epoch, std::int64_t index) const;

  /** Learning rate of epoch `epoch` (0-based) under cosine annealing. */
  static double
  LearningRate(const TrainingParameters & training, int epoch);

  class Pipeline;

private:
  ModelDescription           m_Description;
  TrainerOptions             m_Options;
  std::shared_ptr<Pipeline>  m_Pipeline;
};

} // namespace nsa

#endif
