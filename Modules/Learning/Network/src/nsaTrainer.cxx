#include "nsaTrainer.h"

#include "nsaCpuBudget.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"
#include "nsaModelImpl.h"
#include "nsaProcessGroup.h"
#include "nsaStudyPipeline.h"
#include "nsaTrainingPipeline.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

namespace nsa
{

namespace
{

constexpr double Pi = 3.14159265358979323846;

std::string
WithoutModelExtension(const std::string & path)
{
  for (const char * extension : { ".pt", ".pth", ".nsa" })
  {
    const std::string e(extension);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
    {
      return path.substr(0, path.size() - e.size());
    }
  }
  return path;
}

/** [B, C, spatial...] from samples' flat buffers. */
at::Tensor
Stack(const std::vector<TrainingSample> & batch, bool labels)
{
  std::vector<std::int64_t> sizes = batch.front().sizes;
  sizes.insert(sizes.begin(), { static_cast<std::int64_t>(batch.size()), 1 });
  at::Tensor      tensor = at::empty(sizes, at::kFloat);
  const std::size_t count = batch.front().image.size();
  for (std::size_t i = 0; i < batch.size(); ++i)
  {
    const auto & values = labels ? batch[i].label : batch[i].image;
    std::copy(values.begin(), values.end(), tensor.data_ptr<float>() + i * count);
  }
  return tensor;
}

/** The run-defining part of a description: everything but the history and the device. */
nlohmann::json
RunIdentity(const ModelDescription & description)
{
  nlohmann::json identity = description.ToJson();
  identity.erase("history");
  identity["training"].erase("device");
  identity["training"].erase("num_workers");
  identity["prediction"] = nullptr;
  return identity;
}

/** \class LossScaler
 * \brief Dynamic loss scaling for float16 training (what PyTorch's GradScaler does in Python):
 * scale the loss, skip steps whose gradients overflow and halve the scale, double it after
 * 2000 clean steps. */
struct LossScaler
{
  double scale = 65536.0;
  int    cleanSteps = 0;

  /** Unscales the gradients; false when they hold inf/NaN (then the step is skipped). */
  bool
  Unscale(const std::vector<at::Tensor> & parameters)
  {
    bool finite = true;
    for (const auto & parameter : parameters)
    {
      if (parameter.grad().defined())
      {
        parameter.grad().div_(scale);
        finite = finite && at::isfinite(parameter.grad()).all().item<bool>();
      }
    }
    if (!finite)
    {
      scale /= 2.0;
      cleanSteps = 0;
    }
    else if (++cleanSteps == 2000)
    {
      scale *= 2.0;
      cleanSteps = 0;
    }
    return finite;
  }
};

/** A fingerprint of the exact bits of `tensors` (their float32 words summed as integers): any
 * difference between ranks shows, short of a coincidence. */
std::int64_t
BitFingerprint(const std::vector<at::Tensor> & tensors)
{
  std::int64_t fingerprint = 0;
  for (const auto & tensor : tensors)
  {
    const at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    if (cpu.scalar_type() == at::kFloat)
    {
      fingerprint += at::sum(cpu.view(at::kInt), at::kLong).item<std::int64_t>();
    }
    else
    {
      fingerprint += at::sum(cpu.to(at::kLong)).item<std::int64_t>();
    }
  }
  return fingerprint;
}

/** The device name a rank uses: under a data-parallel job "auto" and "cuda" mean the rank's
 * local GPU (cuda:LOCAL_RANK) when LibTorch sees CUDA. */
std::string
RankDeviceName(const std::string & name, const DistributedEnvironment & environment)
{
  if (environment.IsDistributed() && (name == "cuda" || (name == "auto" && ResolveDevice("auto").is_cuda())))
  {
    return "cuda:" + std::to_string(environment.local_rank);
  }
  return name;
}

/** Makes rank 0's Adam state (moments, step counts) every rank's, for a resumed run. */
void
BroadcastAdamState(ProcessGroup & group, torch::optim::Adam & optimizer, const std::vector<at::Tensor> & parameters)
{
  auto &     state = optimizer.state();
  at::Tensor steps = at::full({ static_cast<std::int64_t>(parameters.size()) }, -1, at::kLong);
  for (std::size_t i = 0; i < parameters.size(); ++i)
  {
    const auto entry = state.find(c10::guts::to_string(parameters[i].unsafeGetTensorImpl()));
    if (entry != state.end())
    {
      steps[static_cast<std::int64_t>(i)] = static_cast<torch::optim::AdamParamState &>(*entry->second).step();
    }
  }
  group.Broadcast(steps, "resume (optimizer state)");
  for (std::size_t i = 0; i < parameters.size(); ++i)
  {
    const std::int64_t step = steps[static_cast<std::int64_t>(i)].item<std::int64_t>();
    if (step < 0)
    {
      continue;
    }
    const std::string key = c10::guts::to_string(parameters[i].unsafeGetTensorImpl());
    if (state.find(key) == state.end())
    {
      auto adam = std::make_unique<torch::optim::AdamParamState>();
      adam->exp_avg(at::zeros_like(parameters[i]));
      adam->exp_avg_sq(at::zeros_like(parameters[i]));
      state[key] = std::move(adam);
    }
    auto & adam = static_cast<torch::optim::AdamParamState &>(*state[key]);
    adam.step(step);
    at::Tensor average = adam.exp_avg();
    at::Tensor squares = adam.exp_avg_sq();
    group.Broadcast(average, "resume (optimizer state)");
    group.Broadcast(squares, "resume (optimizer state)");
  }
}

/** The parameters and buffers of a network, in a fixed order (what ranks compare and share). */
std::vector<at::Tensor>
WeightsAndBuffers(torch::nn::Module & network)
{
  std::vector<at::Tensor> tensors = network.parameters();
  for (const auto & buffer : network.buffers())
  {
    tensors.push_back(buffer);
  }
  return tensors;
}

/** Resumes a run from its checkpoint: rank 0 reads it (weights, history, optimizer and
 * trainer state into `impl` and `state`), the other ranks get the epoch and history from rank
 * 0, or its error. Returns the first epoch to train. */
int
ResumeRun(const TrainerOptions &   options,
          const ModelDescription & description,
          ProcessGroup *           group,
          int                      worldSize,
          Model::Impl &            impl,
          CheckpointState &        state)
{
  const bool  writer = group == nullptr || group->Rank() == 0;
  int         startEpoch = 0;
  std::string resumeError;
  if (writer)
  {
    try
    {
      auto resumed = ReadModelFile(options.checkpoint_path, &state);
      if (RunIdentity(resumed->description) != RunIdentity(description))
      {
        throw ParameterError("resume: checkpoint '" + options.checkpoint_path +
                             "' was written with other settings (network, synthesis, normalisation, training or "
                             "seed differ); start a new run or use the same settings");
      }
      if (!state.optimizer || !state.trainer.is_object())
      {
        throw InputError("resume: '" + options.checkpoint_path + "' is a model file, not a training checkpoint");
      }
      impl.network = resumed->network;
      impl.description.history = resumed->description.history;
      const auto completed = state.trainer.find("completed_epochs");
      if (completed == state.trainer.end() || !completed->is_number_unsigned() ||
          completed->get<std::uint64_t>() > static_cast<std::uint64_t>(description.training.epochs))
      {
        throw InputError("resume: '" + options.checkpoint_path +
                         "': trainer state 'completed_epochs' is missing or not in [0, " +
                         std::to_string(description.training.epochs) + "]");
      }
      startEpoch = completed->get<int>();
      // A step of W ranks takes W·batch_size samples: another world size is another run.
      const auto ranks = state.trainer.find("world_size");
      const int  checkpointRanks = ranks != state.trainer.end() && ranks->is_number_unsigned() ? ranks->get<int>() : 1;
      if (checkpointRanks != worldSize)
      {
        throw ParameterError("resume: checkpoint '" + options.checkpoint_path + "' was written by a run of " +
                             std::to_string(checkpointRanks) + " rank(s); resume it with " +
                             std::to_string(checkpointRanks) + " (now " + std::to_string(worldSize) +
                             "), since the batch of a step is batch_size times the number of ranks");
      }
    }
    catch (const std::exception & error)
    {
      if (!group)
      {
        throw;
      }
      resumeError = UserMessage(error);
    }
  }
  if (group)
  {
    resumeError = group->BroadcastString(resumeError, "resume");
    if (!resumeError.empty())
    {
      throw Error(writer ? resumeError : "rank 0 could not resume: " + resumeError);
    }
    nlohmann::json history = nlohmann::json::array();
    for (const auto & record : impl.description.history)
    {
      history.push_back(record.ToJson());
    }
    const nlohmann::json shared = nlohmann::json::parse(group->BroadcastString(
      nlohmann::json{ { "start_epoch", startEpoch }, { "history", history } }.dump(), "resume"));
    startEpoch = shared.at("start_epoch").get<int>();
    impl.description.history.clear();
    for (const auto & record : shared.at("history"))
    {
      impl.description.history.push_back(EpochRecord::FromJson(record));
    }
  }
  return startEpoch;
}

/** Restores Adam's state of a resumed run: rank 0 loads it from the checkpoint and checks
 * that its moments fit the parameters, it moves to the device, and rank 0 shares it. */
void
RestoreOptimizer(torch::optim::Adam &            optimizer,
                 const std::vector<at::Tensor> & parameters,
                 const CheckpointState &         state,
                 const std::string &             checkpointPath,
                 const torch::Device &           device,
                 ProcessGroup *                  group)
{
  if (group == nullptr || group->Rank() == 0)
  {
    try
    {
      optimizer.load(*state.optimizer);
    }
    catch (const c10::Error & error)
    {
      throw InputError("resume: '" + checkpointPath + "': optimizer state unreadable: " +
                       error.what_without_backtrace());
    }
    // Adam's moments must have their parameter's shape, or the first step reads out of bounds.
    for (const auto & parameter : parameters)
    {
      const auto entry = optimizer.state().find(c10::guts::to_string(parameter.unsafeGetTensorImpl()));
      if (entry == optimizer.state().end())
      {
        continue;
      }
      auto & adam = static_cast<torch::optim::AdamParamState &>(*entry->second);
      if (!adam.exp_avg().defined() || !adam.exp_avg_sq().defined() || adam.exp_avg().sizes() != parameter.sizes() ||
          adam.exp_avg_sq().sizes() != parameter.sizes())
      {
        throw InputError("resume: '" + checkpointPath +
                         "': optimizer state does not fit the network (moment shapes differ from the parameters')");
      }
    }
  }
  if (device.is_cuda())
  {
    for (auto & entry : optimizer.state())
    {
      auto & adam = static_cast<torch::optim::AdamParamState &>(*entry.second);
      adam.exp_avg(adam.exp_avg().to(device));
      adam.exp_avg_sq(adam.exp_avg_sq().to(device));
    }
  }
  if (group)
  {
    BroadcastAdamState(*group, optimizer, parameters);
  }
}

/** One optimisation step on a batch ([N, C, ...] input and label; N = 0 on a rank left
 * without samples, which still joins the collectives): forward (autocast under mixed
 * precision), loss weighted by this rank's `share` of the global batch, backward, gradients
 * summed over the ranks, Adam step (skipped on overflow under mixed precision). Adds the
 * loss to `lossSum`; returns the logits. */
at::Tensor
TrainStep(Model::Impl &                   impl,
          torch::optim::Adam &            optimizer,
          std::vector<at::Tensor> &       parameters,
          const at::Tensor &              input,
          const at::Tensor &              label,
          bool                            empty,
          double                          share,
          Loss                            lossName,
          bool                            mixedPrecision,
          LossScaler &                    scaler,
          ProcessGroup *                  group,
          double &                        lossSum)
{
  optimizer.zero_grad();
  at::Tensor logits;
  if (mixedPrecision)
  {
    at::autocast::set_enabled(true);
    logits = impl.network->ForwardLogits(input);
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
    logits = logits.to(at::kFloat);
  }
  else
  {
    logits = impl.network->ForwardLogits(input);
  }
  // The loss of the step is the mean over the global batch: each rank weights its mean by
  // its share, and the gradients are summed over the ranks (equal shares: the average).
  at::Tensor loss;
  if (empty)
  {
    loss = logits.sum() * 0.0;
  }
  else
  {
    loss = (lossName == Loss::MSE ? at::mse_loss(impl.network->Activate(logits), label)
                                  : at::binary_cross_entropy_with_logits(logits, label)) *
           share;
  }
  if (mixedPrecision)
  {
    (loss * scaler.scale).backward();
    if (group)
    {
      group->AllReduceGradients(parameters);
    }
    // The gradients are equal on every rank now, so every rank skips the same steps.
    if (scaler.Unscale(parameters))
    {
      optimizer.step();
    }
  }
  else
  {
    loss.backward();
    if (group)
    {
      group->AllReduceGradients(parameters);
    }
    optimizer.step();
  }
  lossSum += loss.item<double>();
  return logits;
}

/** After an epoch of data-parallel training: the epoch's loss summed over the ranks, and a
 * check that every rank holds rank 0's weights (a silent divergence would train W models). */
double
SumOverRanksAndCheckWeights(ProcessGroup &                 group,
                            torch::nn::Module &            network,
                            double                         lossSum,
                            const DistributedEnvironment & environment,
                            int                            epoch)
{
  std::vector<at::Tensor> tensors = WeightsAndBuffers(network);
  at::Tensor reduced = at::tensor({ lossSum }, at::kDouble);
  group.AllReduceSum(reduced, "the epoch's loss");
  lossSum = reduced.item<double>();
  at::Tensor fingerprint = at::full({ 1 }, BitFingerprint(tensors), at::kLong);
  at::Tensor reference = fingerprint.clone();
  group.Broadcast(reference, "the weight check");
  at::Tensor differs = at::full({ 1 }, reference.item<std::int64_t>() != fingerprint.item<std::int64_t>() ? 1 : 0, at::kLong);
  group.AllReduceSum(differs, "the weight check");
  if (differs.item<std::int64_t>() != 0)
  {
    throw Error("distributed training: " + environment.Describe() + ": the weights of " +
                std::to_string(differs.item<std::int64_t>()) + " rank(s) differ from rank 0's after epoch " +
                std::to_string(epoch + 1));
  }
  return lossSum;
}

/** The example picture of an epoch: rows input | label | prediction of up to four samples
 * of the last batch ([N, 1, ...] tensors; 3D: the middle slice). */
void
WriteExampleBatch(const std::string & path, const at::Tensor & input, const at::Tensor & label,
                  const at::Tensor & output)
{
  std::vector<std::vector<std::vector<float>>> rows;
  const auto panel = [](const at::Tensor & tensor, std::int64_t i) {
    at::Tensor slice = tensor[i][0].to(at::kCPU, at::kFloat);
    if (slice.dim() == 3)
    {
      slice = slice[slice.size(0) / 2];
    }
    slice = slice.contiguous();
    return std::vector<float>(slice.data_ptr<float>(), slice.data_ptr<float>() + slice.numel());
  };
  for (std::int64_t i = 0; i < std::min<std::int64_t>(4, input.size(0)); ++i)
  {
    rows.push_back({ panel(input, i), panel(label, i), panel(output, i) });
  }
  WriteExamplePng(path, rows, input.size(-2), input.size(-1));
}

/** The input and label tensors of a batch on `device`. A short last step can leave a rank
 * without samples; it still takes part in the collectives, with empty [0, C, ...] tensors. */
std::pair<at::Tensor, at::Tensor>
BatchTensors(const std::vector<TrainingSample> & batch,
             std::vector<std::int64_t>           canvasSize,
             int                                 inputChannels,
             const torch::Device &               device)
{
  if (batch.empty())
  {
    canvasSize.insert(canvasSize.begin(), { 0, static_cast<std::int64_t>(inputChannels) });
    at::Tensor input = at::zeros(canvasSize, at::kFloat).to(device);
    canvasSize[1] = 1;
    return { input, at::zeros(canvasSize, at::kFloat).to(device) };
  }
  return { Stack(batch, false).to(device), Stack(batch, true).to(device) };
}

/** This rank's share of every step of an epoch (the same for every epoch): RankSamples. */
struct RankShare
{
  std::vector<std::int64_t> indices;   ///< sample positions this rank synthesises, step after step
  std::vector<std::int64_t> sizes;     ///< how many of them per step
  std::vector<std::int64_t> stepSizes; ///< samples of each step over all ranks
};

RankShare
ShareOfEveryStep(std::int64_t samples, std::int64_t globalBatch, std::int64_t batches, int rank, int worldSize)
{
  RankShare share;
  for (std::int64_t b = 0; b < batches; ++b)
  {
    const SampleRange range = RankSamples(samples, globalBatch, b, rank, worldSize);
    for (std::int64_t i = range.first; i < range.last; ++i)
    {
      share.indices.push_back(i);
    }
    share.sizes.push_back(range.Size());
    share.stepSizes.push_back(std::min(samples, (b + 1) * globalBatch) - b * globalBatch);
  }
  return share;
}

/** Appends an epoch's line to the training log (JSON lines). */
void
AppendToLog(const std::string & path, const EpochRecord & record)
{
  std::ofstream log(path, std::ios::app);
  log << record.ToJson().dump() << "\n";
  if (!log)
  {
    throw OutputError("training log '" + path + "': cannot append");
  }
}

/** The trainer's state a checkpoint stores after `epoch` (scheduler, loss scale, ranks). */
nlohmann::json
TrainerState(const TrainingParameters & training, int epoch, const LossScaler & scaler, int worldSize)
{
  return { { "completed_epochs", epoch + 1 },
           { "scheduler",
             { { "kind", "cosine-annealing" },
               { "base_lr", training.learning_rate },
               { "eta_min", training.min_learning_rate },
               { "t_max", training.epochs },
               { "last_epoch", epoch } } },
           { "loss_scale", scaler.scale },
           { "world_size", worldSize } };
}

/** Sets LibTorch's thread count for the network: the user's count, else the CPUs this process
 * may use (affinity mask and cgroup quota, which LibTorch's own default ignores), less one for
 * the synthesis workers from 2 CPUs on (issue 17). */
void
SetNetworkThreads(const TrainerOptions & options, const TrainingParameters & training)
{
  nsa::SetNetworkThreads(options.torch_threads > 0
                           ? options.torch_threads
                           : static_cast<int>(DefaultNetworkThreads(
                               AvailableCpus(), static_cast<unsigned int>(std::max(0, training.num_workers)))));
}

/** Rewrites the training log with `history` (after a resume, lines of epochs after the
 * checkpoint are dropped, so the log always matches the model). */
void
RestartLog(const std::string & path, const std::vector<EpochRecord> & history)
{
  std::string lines;
  for (const auto & record : history)
  {
    lines += record.ToJson().dump() + "\n";
  }
  WriteTextFileAtomically(path, lines);
}

/** The last batch a rank trained on in an epoch: what the example picture shows. */
struct LastBatch
{
  at::Tensor input;
  at::Tensor label;
  at::Tensor output;
};

/** The record of epoch `epoch` (0-based) after it took `seconds`. */
EpochRecord
EpochSummary(int          epoch,
             double       lossSum,
             std::int64_t batches,
             double       learningRate,
             double       seconds,
             std::int64_t samples,
             double       waitSeconds)
{
  EpochRecord record;
  record.epoch = epoch + 1;
  record.loss = lossSum / batches;
  record.learning_rate = learningRate;
  record.seconds = seconds;
  record.samples_per_second = samples / std::max(seconds, 1e-9);
  record.pipeline_wait_seconds = waitSeconds;
  return record;
}

/** The progress line of an epoch. */
std::string
EpochMessage(const EpochRecord & record, int epochs)
{
  std::ostringstream message;
  message << "epoch " << record.epoch << "/" << epochs << ": loss " << record.loss << ", lr " << record.learning_rate
          << ", " << record.samples_per_second << " samples/s";
  return message.str();
}

/** Saves the finished model and draws its loss curve. */
void
SaveModelAndLossCurve(const Model & model, const std::vector<EpochRecord> & history, const TrainerOptions & options)
{
  model.Save(options.model_path);
  std::vector<double> losses;
  for (const auto & record : history)
  {
    losses.push_back(record.loss);
  }
  WriteLossCurvePng(options.loss_curve_path, losses);
}

} // namespace

Trainer::Trainer(ModelDescription description, std::vector<TrainingImage> images, TrainerOptions options)
  : m_Description(std::move(description))
  , m_Options(std::move(options))
{
  TrainingParameters & training = m_Description.training;
  training.Validate(m_Description.network);
  m_Description.history.clear();
  m_Description.synthesis.Validate();
  m_Description.network.output_activation =
    training.loss == Loss::MSE ? OutputActivation::ReLU : OutputActivation::Sigmoid;
  if (m_Options.model_path.empty())
  {
    throw ParameterError("training: no output model path");
  }
  const std::string stem = WithoutModelExtension(m_Options.model_path);
  if (m_Options.checkpoint_path.empty())
  {
    m_Options.checkpoint_path = stem + ".checkpoint.pt";
  }
  if (m_Options.log_path.empty())
  {
    m_Options.log_path = stem + ".log.jsonl";
  }
  if (m_Options.loss_curve_path.empty())
  {
    m_Options.loss_curve_path = stem + ".loss.png";
  }
  if (m_Options.example_prefix.empty())
  {
    m_Options.example_prefix = stem + ".example-";
  }
  m_Pipeline = std::make_shared<Pipeline>(m_Description, std::move(images));
}

Trainer::~Trainer() = default;

std::size_t
Trainer::NumberOfUnits() const
{
  return m_Pipeline->NumberOfUnits();
}

TrainingSample
Trainer::MakeSample(int epoch, std::int64_t index) const
{
  return m_Pipeline->MakeSample(epoch, index);
}

double
Trainer::LearningRate(const TrainingParameters & training, int epoch)
{
  // PyTorch's CosineAnnealingLR in closed form with T_max = epochs, stepped once per epoch.
  return training.min_learning_rate + (training.learning_rate - training.min_learning_rate) *
                                        (1.0 + std::cos(Pi * epoch / training.epochs)) / 2.0;
}

Model
Trainer::Train(ProgressObserver * progress)
{
  NullProgress               nullProgress;
  const TrainingParameters & training = m_Description.training;
  SetNetworkThreads(m_Options, training);
  const DistributedEnvironment & environment = m_Options.distributed;
  const torch::Device            device = ResolveDevice(RankDeviceName(training.device, environment));
  // Data-parallel training: join the other ranks (every rank has read its images by now).
  std::unique_ptr<ProcessGroup> group;
  if (environment.IsDistributed())
  {
    group = std::make_unique<ProcessGroup>(environment, device);
  }
  const int  worldSize = group ? group->WorldSize() : 1;
  const bool writer = !group || group->Rank() == 0; // only rank 0 writes and reports
  if (progress == nullptr || !writer)
  {
    progress = &nullProgress;
  }
  if (group)
  {
    progress->Message("data-parallel training: " + std::to_string(worldSize) + " ranks (" + environment.launcher + ", " +
                      group->Backend() + "), " + std::to_string(training.batch_size) + " samples per rank and step");
  }
  const bool mixedPrecision = training.mixed_precision && device.is_cuda();
  if (training.mixed_precision && !device.is_cuda())
  {
    progress->Message("mixed precision applies to CUDA only; training in float32 on the CPU");
  }

  Model        model(m_Description, m_Description.seed);
  Model::Impl & impl = model.GetImpl();
  CheckpointState state;
  const int startEpoch = m_Options.resume ? ResumeRun(m_Options, m_Description, group.get(), worldSize, impl, state) : 0;
  impl.network->to(device);
  if (group)
  {
    // Every rank starts from rank 0's weights and batch-norm statistics (DistributedDataParallel
    // does the same); with the same seed they are equal anyway, after a resume they come
    // from rank 0's checkpoint.
    std::vector<at::Tensor> tensors = WeightsAndBuffers(*impl.network);
    group->BroadcastTensors(tensors, "the initial weights");
  }

  std::vector<at::Tensor> parameters = impl.network->parameters();
  torch::optim::Adam      optimizer(parameters,
                               torch::optim::AdamOptions(training.learning_rate).weight_decay(training.weight_decay));
  if (m_Options.resume)
  {
    RestoreOptimizer(optimizer, parameters, state, m_Options.checkpoint_path, device, group.get());
  }

  // The log: the history so far, then one line per epoch.
  if (writer)
  {
    RestartLog(m_Options.log_path, impl.description.history);
  }

  const std::int64_t samples = m_Pipeline->SamplesPerEpoch();
  const std::int64_t globalBatch = static_cast<std::int64_t>(training.batch_size) * worldSize;
  const std::int64_t batches = StepsPerEpoch(samples, globalBatch);
  const int          rank = group ? group->Rank() : 0;
  const int          lastEpoch = m_Options.stop_after_epochs > 0
                                   ? std::min(training.epochs, startEpoch + m_Options.stop_after_epochs)
                                   : training.epochs;
  LossScaler      scaler;
  const RankShare share = ShareOfEveryStep(samples, globalBatch, batches, rank, worldSize);
  std::unique_ptr<BatchNormSyncGuard> syncBatchNorm;
  if (group)
  {
    syncBatchNorm = std::make_unique<BatchNormSyncGuard>(group.get());
  }
  progress->StartStage("Training");
  for (int epoch = startEpoch; epoch < lastEpoch; ++epoch)
  {
    const auto   epochStart = std::chrono::steady_clock::now();
    const double learningRate = LearningRate(training, epoch);
    for (auto & parameterGroup : optimizer.param_groups())
    {
      static_cast<torch::optim::AdamOptions &>(parameterGroup.options()).lr(learningRate);
    }
    impl.network->train();
    SampleProducer producer(*m_Pipeline, epoch, share.indices, share.sizes, training.num_workers);
    double    lossSum = 0.0;
    double    waitSeconds = 0.0;
    LastBatch last;
    for (std::int64_t b = 0; b < batches; ++b)
    {
      const std::vector<TrainingSample> batch = producer.NextBatch(waitSeconds);
      at::Tensor                        input, label;
      std::tie(input, label) =
        BatchTensors(batch, m_Pipeline->CanvasSize(), m_Description.network.input_channels, device);
      const at::Tensor logits = TrainStep(impl, optimizer, parameters, input, label, batch.empty(),
                                          static_cast<double>(batch.size()) / static_cast<double>(share.stepSizes[b]),
                                          training.loss, mixedPrecision, scaler, group.get(), lossSum);
      if (!batch.empty())
      {
        // The example picture shows the last batch this rank trained on.
        last = { input.detach(), label.detach(), logits.detach() };
      }
      progress->Report((epoch - startEpoch + static_cast<double>(b + 1) / batches) / (lastEpoch - startEpoch));
    }
    if (group)
    {
      lossSum = SumOverRanksAndCheckWeights(*group, *impl.network, lossSum, environment, epoch);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epochStart).count();
    const EpochRecord record = EpochSummary(epoch, lossSum, batches, learningRate, seconds, samples, waitSeconds);
    impl.description.history.push_back(record);
    if (writer)
    {
      AppendToLog(m_Options.log_path, record);
    }
    progress->Message(EpochMessage(record, training.epochs));

    if (writer && ((epoch + 1) % training.checkpoint_every == 0 || epoch + 1 == lastEpoch))
    {
      const nlohmann::json trainerState = TrainerState(training, epoch, scaler, worldSize);
      WriteModelFile(m_Options.checkpoint_path, impl, &optimizer, &trainerState);
    }
    if (writer && training.example_every > 0 && (epoch + 1) % training.example_every == 0 && last.input.defined())
    {
      WriteExampleBatch(m_Options.example_prefix + std::to_string(epoch + 1) + ".png", last.input, last.label,
                        impl.network->Activate(last.output));
    }
  }
  progress->EndStage();
  syncBatchNorm.reset();

  impl.network->to(torch::kCPU);
  if (writer && lastEpoch == training.epochs)
  {
    SaveModelAndLossCurve(model, impl.description.history, m_Options);
  }
  return model;
}

} // namespace nsa
