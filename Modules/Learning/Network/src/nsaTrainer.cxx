#include "nsaTrainer.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"
#include "nsaModelImpl.h"
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

} // namespace

Trainer::Trainer(ModelDescription description, std::vector<TrainingImage> images, TrainerOptions options)
  : m_Description(std::move(description))
  , m_Options(std::move(options))
{
  TrainingParameters & training = m_Description.training;
  training.Validate();
  m_Description.history.clear();
  m_Description.synthesis.Validate();
  m_Description.network.dimension = training.dimension;
  m_Description.network.width_multiplier = training.width_multiplier;
  m_Description.network.input_channels = training.input_channels;
  m_Description.network.output_activation = training.loss == "mse" ? "relu" : "sigmoid";
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
  NullProgress nullProgress;
  if (progress == nullptr)
  {
    progress = &nullProgress;
  }
  if (m_Options.torch_threads > 0)
  {
    at::set_num_threads(m_Options.torch_threads);
  }
  const TrainingParameters & training = m_Description.training;
  const torch::Device        device = ResolveDevice(training.device);
  const bool                 mixedPrecision = training.mixed_precision && device.is_cuda();
  if (training.mixed_precision && !device.is_cuda())
  {
    progress->Message("mixed precision applies to CUDA only; training in float32 on the CPU");
  }

  Model        model(m_Description, m_Description.seed);
  Model::Impl & impl = model.GetImpl();
  int          startEpoch = 0;
  CheckpointState state;
  if (m_Options.resume)
  {
    auto resumed = ReadModelFile(m_Options.checkpoint_path, &state);
    if (RunIdentity(resumed->description) != RunIdentity(m_Description))
    {
      throw ParameterError("resume: checkpoint '" + m_Options.checkpoint_path +
                           "' was written with other settings (network, synthesis, normalisation, training or "
                           "seed differ); start a new run or use the same settings");
    }
    if (!state.optimizer || !state.trainer.is_object())
    {
      throw InputError("resume: '" + m_Options.checkpoint_path + "' is a model file, not a training checkpoint");
    }
    impl.network = resumed->network;
    impl.description.history = resumed->description.history;
    const auto completed = state.trainer.find("completed_epochs");
    if (completed == state.trainer.end() || !completed->is_number_unsigned() ||
        completed->get<std::uint64_t>() > static_cast<std::uint64_t>(training.epochs))
    {
      throw InputError("resume: '" + m_Options.checkpoint_path + "': trainer state 'completed_epochs' is missing or not in [0, " +
                       std::to_string(training.epochs) + "]");
    }
    startEpoch = completed->get<int>();
  }
  impl.network->to(device);

  std::vector<at::Tensor> parameters = impl.network->parameters();
  torch::optim::Adam      optimizer(parameters,
                               torch::optim::AdamOptions(training.learning_rate).weight_decay(training.weight_decay));
  if (m_Options.resume)
  {
    try
    {
      optimizer.load(*state.optimizer);
    }
    catch (const c10::Error & error)
    {
      throw InputError("resume: '" + m_Options.checkpoint_path + "': optimizer state unreadable: " +
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
        throw InputError("resume: '" + m_Options.checkpoint_path +
                         "': optimizer state does not fit the network (moment shapes differ from the parameters')");
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
  }

  // The log: the history so far (after a resume, lines of epochs after the checkpoint are
  // dropped, so the log always matches the model), then one line per epoch.
  {
    std::string lines;
    for (const auto & record : impl.description.history)
    {
      lines += record.ToJson().dump() + "\n";
    }
    WriteTextFileAtomically(m_Options.log_path, lines);
  }

  const std::int64_t samples = m_Pipeline->SamplesPerEpoch();
  const std::int64_t batches = (samples + training.batch_size - 1) / training.batch_size;
  const int          lastEpoch = m_Options.stop_after_epochs > 0
                                   ? std::min(training.epochs, startEpoch + m_Options.stop_after_epochs)
                                   : training.epochs;
  LossScaler scaler;
  progress->StartStage("Training");
  for (int epoch = startEpoch; epoch < lastEpoch; ++epoch)
  {
    const auto   epochStart = std::chrono::steady_clock::now();
    const double learningRate = LearningRate(training, epoch);
    for (auto & group : optimizer.param_groups())
    {
      static_cast<torch::optim::AdamOptions &>(group.options()).lr(learningRate);
    }
    impl.network->train();
    SampleProducer producer(*m_Pipeline, epoch, samples, training.batch_size, training.num_workers);
    double     lossSum = 0.0;
    double     waitSeconds = 0.0;
    at::Tensor lastInput, lastLabel, lastOutput;
    for (std::int64_t b = 0; b < batches; ++b)
    {
      const std::vector<TrainingSample> batch = producer.NextBatch(waitSeconds);
      const at::Tensor                  input = Stack(batch, false).to(device);
      const at::Tensor                  label = Stack(batch, true).to(device);
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
      const at::Tensor loss = training.loss == "mse" ? at::mse_loss(impl.network->Activate(logits), label)
                                                     : at::binary_cross_entropy_with_logits(logits, label);
      if (mixedPrecision)
      {
        (loss * scaler.scale).backward();
        if (scaler.Unscale(parameters))
        {
          optimizer.step();
        }
      }
      else
      {
        loss.backward();
        optimizer.step();
      }
      lossSum += loss.item<double>();
      if (b + 1 == batches)
      {
        lastInput = input.detach();
        lastLabel = label.detach();
        lastOutput = impl.network->Activate(logits.detach());
      }
      progress->Report((epoch - startEpoch + static_cast<double>(b + 1) / batches) / (lastEpoch - startEpoch));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epochStart).count();
    EpochRecord  record;
    record.epoch = epoch + 1;
    record.loss = lossSum / batches;
    record.learning_rate = learningRate;
    record.seconds = seconds;
    record.samples_per_second = samples / std::max(seconds, 1e-9);
    record.pipeline_wait_seconds = waitSeconds;
    impl.description.history.push_back(record);
    {
      std::ofstream log(m_Options.log_path, std::ios::app);
      log << record.ToJson().dump() << "\n";
      if (!log)
      {
        throw OutputError("training log '" + m_Options.log_path + "': cannot append");
      }
    }
    std::ostringstream message;
    message << "epoch " << record.epoch << "/" << training.epochs << ": loss " << record.loss << ", lr "
            << learningRate << ", " << record.samples_per_second << " samples/s";
    progress->Message(message.str());

    const bool last = epoch + 1 == lastEpoch;
    if ((epoch + 1) % training.checkpoint_every == 0 || last)
    {
      const nlohmann::json trainerState{ { "completed_epochs", epoch + 1 },
                                         { "scheduler",
                                           { { "kind", "cosine-annealing" },
                                             { "base_lr", training.learning_rate },
                                             { "eta_min", training.min_learning_rate },
                                             { "t_max", training.epochs },
                                             { "last_epoch", epoch } } },
                                         { "loss_scale", scaler.scale } };
      WriteModelFile(m_Options.checkpoint_path, impl, &optimizer, &trainerState);
    }
    if (training.example_every > 0 && (epoch + 1) % training.example_every == 0 && lastInput.defined())
    {
      // Rows input | label | prediction of up to four samples; 3D: the middle slice.
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
      for (std::int64_t i = 0; i < std::min<std::int64_t>(4, lastInput.size(0)); ++i)
      {
        rows.push_back({ panel(lastInput, i), panel(lastLabel, i), panel(lastOutput, i) });
      }
      WriteExamplePng(m_Options.example_prefix + std::to_string(epoch + 1) + ".png",
                      rows,
                      lastInput.size(-2),
                      lastInput.size(-1));
    }
  }
  progress->EndStage();

  impl.network->to(torch::kCPU);
  if (lastEpoch == training.epochs)
  {
    model.Save(m_Options.model_path);
    std::vector<double> losses;
    for (const auto & record : impl.description.history)
    {
      losses.push_back(record.loss);
    }
    WriteLossCurvePng(m_Options.loss_curve_path, losses);
  }
  return model;
}

} // namespace nsa
