#ifndef nsaModelImpl_h
#define nsaModelImpl_h

// Internal header of the Learning module (includes LibTorch): only src/ and test/ include it.

#include "nsaModel.h"
#include "nsaResNetEncoderDecoder.h"

#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

#include <memory>
#include <optional>

namespace nsa
{

/** \class Model::Impl
 * \brief The LibTorch side of nsa::Model: the description and the network. */
class Model::Impl
{
public:
  ModelDescription                description;
  std::shared_ptr<EncoderDecoder> network;
};

/** What a training checkpoint holds besides the model. */
struct CheckpointState
{
  /** Adam state as written by Optimizer::save (absent in plain model files). */
  /** (A pointer rather than std::optional: InputArchive's copy constructor takes a non-const
   * reference, which clang's std::optional refuses.) */
  std::unique_ptr<torch::serialize::InputArchive> optimizer;
  /** Scheduler and data-pipeline state written by the trainer (null in plain model files). */
  nlohmann::json trainer;
};

/** Writes a model file or, with `optimizer` and `trainerState`, a training checkpoint,
 * atomically (nsa::AtomicOutput). */
void
WriteModelFile(const std::string &           path,
               const Model::Impl &           model,
               torch::optim::Optimizer *     optimizer = nullptr,
               const nlohmann::json *        trainerState = nullptr);

/** Reads a model file (weights onto the CPU); fills `state` when given. Throws InputError
 * naming the file when it is not a readable NSA model file. */
std::shared_ptr<Model::Impl>
ReadModelFile(const std::string & path, CheckpointState * state = nullptr);

/** The device of a device name: "auto" (CUDA device 0 when LibTorch sees one, else the
 * CPU), "cpu", "cuda", "cuda:N". Throws ParameterError when CUDA is asked for but not
 * available or N is out of range. */
torch::Device
ResolveDevice(const std::string & name);

} // namespace nsa

#endif
