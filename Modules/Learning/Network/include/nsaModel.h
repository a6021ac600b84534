#ifndef nsaModel_h
#define nsaModel_h

#include "nsaParameterJson.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nsa
{

/** \brief One line of the training history (also one line of the JSON-lines log). */
struct EpochRecord
{
  int    epoch = 0;              ///< 1-based
  double loss = 0.0;             ///< mean training loss of the epoch
  double learning_rate = 0.0;    ///< learning rate used during the epoch
  double samples_per_second = 0.0;
  double seconds = 0.0;          ///< wall time of the epoch
  double pipeline_wait_seconds = 0.0; ///< time the training thread waited for samples

  nlohmann::json
  ToJson() const;
  static EpochRecord
  FromJson(const nlohmann::json & object);
};

/** \brief Everything a model file says about a model besides its weights: how to rebuild the
 * network, how inputs were normalised, how its training examples were synthesised, how it was
 * trained (and its history), and how to apply it by default. */
struct ModelDescription
{
  NetworkParameters     network;
  NormalisationParameters  normalisation;
  SynthesisParameters      synthesis;
  TrainingParameters       training;
  AugmentationParameters   augmentation;
  PredictionParameters     prediction;
  std::string              preset;       ///< preset name the model was trained with (may be empty)
  std::uint64_t            seed = 0;     ///< run seed
  std::vector<EpochRecord> history;

  nlohmann::json
  ToJson() const;
  /** Throws ParameterError naming `context` and the key for an invalid description. */
  static ModelDescription
  FromJson(const nlohmann::json & object, const std::string & context);
};

/** \class Model
 * \brief A network with its description: what NSATrain writes and NSAPredict reads.
 *
 * The public interface is free of LibTorch headers (pimpl) so that programs and other
 * modules compile quickly; the network itself lives in the Learning module's sources.
 *
 * A model file is a LibTorch archive (readable from Python with `torch.jit.load`) holding
 * "format" = "nsa-model-1", "configuration" (ModelDescription as JSON text), "network" (the
 * parameters and buffers by their PyTorch names) and, in training checkpoints, "optimizer"
 * (Adam state) and "trainer" (scheduler and data-pipeline state as JSON text). Files are
 * written atomically (nsa::AtomicOutput). Copies of a Model share one network.
 */
class Model
{
public:
  /** A new network initialised as the paper does, from LibTorch's generator seeded with
   * `seed` (same seed, same weights). */
  explicit Model(const ModelDescription & description, std::uint64_t seed = 0);

  /** Reads a model file or training checkpoint; throws InputError naming the file. */
  static Model
  Load(const std::string & path);

  /** Writes weights and description (no optimizer state) atomically. */
  void
  Save(const std::string & path) const;

  /** Loads the weights of a PyTorch state dict (`torch.save(model.state_dict(), path)` of the
   * paper's `resnet18_enc_dec`, or a training checkpoint dict holding it under
   * "model_state_dict"); names and shapes must match this model's network. */
  void
  ImportStateDict(const std::string & path);

  const ModelDescription &
  GetDescription() const;
  ModelDescription &
  GetDescription();

  /** Trainable parameters of the network. */
  std::int64_t
  ParameterCount() const;

  /** Runs the network on one CPU input given as a flat float buffer of the tensor
   * [N, C, spatial...] (sizes listed in `sizes`, C order, x fastest), in evaluation mode;
   * returns the [N, 1, spatial...] scores as a flat buffer. For tests and language bindings;
   * programs use nsa::Predictor. */
  std::vector<float>
  Evaluate(const std::vector<float> & input, const std::vector<std::int64_t> & sizes) const;

  class Impl;
  /** The LibTorch side (only the Learning module's sources can use it). */
  Impl &
  GetImpl() const
  {
    return *m_Impl;
  }

private:
  explicit Model(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> m_Impl;
};

} // namespace nsa

#endif
