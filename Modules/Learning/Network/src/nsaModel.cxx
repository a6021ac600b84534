#include "nsaModelImpl.h"

#include "nsaAtomicOutput.h"
#include "nsaArchiveCheck.h"
#include "nsaError.h"
#include "nsaJsonText.h"

#include "nsaStudyPipeline.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <fstream>

namespace nsa
{

namespace
{
constexpr const char * ModelFormat = "nsa-model-1";
}

// ---------------------------------------------------------------------------------------
nlohmann::json
EpochRecord::ToJson() const
{
  return { { "epoch", epoch },
           { "loss", loss },
           { "learning_rate", learning_rate },
           { "samples_per_second", samples_per_second },
           { "seconds", seconds },
           { "pipeline_wait_seconds", pipeline_wait_seconds } };
}

EpochRecord
EpochRecord::FromJson(const nlohmann::json & object)
{
  EpochRecord record;
  record.epoch = object.at("epoch").get<int>();
  record.loss = object.at("loss").get<double>();
  record.learning_rate = object.at("learning_rate").get<double>();
  record.samples_per_second = object.value("samples_per_second", 0.0);
  record.seconds = object.value("seconds", 0.0);
  record.pipeline_wait_seconds = object.value("pipeline_wait_seconds", 0.0);
  return record;
}

nlohmann::json
ModelDescription::ToJson() const
{
  nlohmann::json object;
  object["network"] = nsa::ToJson(network);
  object["normalisation"] = nsa::ToJson(normalisation);
  object["synthesis"] = nsa::ToJson(synthesis);
  object["training"] = nsa::ToJson(training);
  object["augmentation"] = nsa::ToJson(augmentation);
  object["prediction"] = nsa::ToJson(prediction);
  object["preset"] = preset;
  object["seed"] = seed;
  object["history"] = nlohmann::json::array();
  for (const auto & record : history)
  {
    object["history"].push_back(record.ToJson());
  }
  return object;
}

ModelDescription
ModelDescription::FromJson(const nlohmann::json & original, const std::string & context)
{
  if (!original.is_object())
  {
    throw ParameterError(context + ": the model description is not a JSON object");
  }
  // Model files written before "network" was the one home of the network's keys hold them
  // in "training" too (Data/Models/brain-mri-2d.pt does).
  const nlohmann::json object = MigrateNetworkKeys(original, context);
  ModelDescription description;
  const auto section = [&](const char * key) -> nlohmann::json {
    auto it = object.find(key);
    return it == object.end() ? nlohmann::json::object() : *it;
  };
  UpdateFromJson(description.network, section("network"), context + ": network");
  UpdateFromJson(description.normalisation, section("normalisation"), context + ": normalisation");
  UpdateFromJson(description.synthesis, section("synthesis"), context + ": synthesis");
  UpdateFromJson(description.training, section("training"), context + ": training");
  try
  {
    description.training.Validate(description.network);
  }
  catch (const ParameterError & error)
  {
    throw ParameterError(context + ": training: " + error.what());
  }
  UpdateFromJson(description.augmentation, section("augmentation"), context + ": augmentation");
  UpdateFromJson(description.prediction, section("prediction"), context + ": prediction");
  try
  {
    description.preset = object.value("preset", std::string());
    description.seed = object.value("seed", std::uint64_t{ 0 });
    for (const auto & record : object.value("history", nlohmann::json::array()))
    {
      description.history.push_back(EpochRecord::FromJson(record));
    }
  }
  catch (const nlohmann::json::exception & error)
  {
    throw ParameterError(context + ": " + error.what());
  }
  return description;
}

// ---------------------------------------------------------------------------------------
torch::Device
ResolveDevice(const std::string & name)
{
  ValidateDeviceName(name);
  if (name == "cpu")
  {
    return torch::Device(torch::kCPU);
  }
  const bool available = torch::cuda::is_available();
  if (name == "auto")
  {
    return available ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  if (!available)
  {
    throw ParameterError("device: '" + name + "' asked for, but LibTorch sees no CUDA device (CPU build or no GPU)");
  }
  const int index = CudaDeviceIndex(name); // 0 to MaximumCudaDeviceIndex: fits c10::DeviceIndex
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count)
  {
    throw ParameterError("device: '" + name + "' asked for, but only " + std::to_string(count) +
                         " CUDA device(s) are available");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

// ---------------------------------------------------------------------------------------
void
WriteModelFile(const std::string &       path,
               const Model::Impl &       model,
               torch::optim::Optimizer * optimizer,
               const nlohmann::json *    trainerState)
{
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(ModelFormat)));
  archive.write("configuration", c10::IValue(model.description.ToJson().dump()));
  torch::serialize::OutputArchive networkArchive;
  model.network->save(networkArchive);
  archive.write("network", networkArchive);
  if (optimizer != nullptr)
  {
    torch::serialize::OutputArchive optimizerArchive;
    optimizer->save(optimizerArchive);
    archive.write("optimizer", optimizerArchive);
  }
  if (trainerState != nullptr)
  {
    archive.write("trainer", c10::IValue(trainerState->dump()));
  }
  AtomicOutput output(path);
  try
  {
    archive.save_to(output.TemporaryPath());
  }
  catch (const c10::Error & error)
  {
    throw OutputError("model file '" + path + "': cannot write: " + error.what_without_backtrace());
  }
  output.Commit();
}

namespace
{

/** The tensors of a module archive by their dotted names ("layer1.0.conv1.weight"), read
 * without a network to receive them. */
void
CollectArchiveTensors(torch::serialize::InputArchive &                  archive,
                      const std::string &                               prefix,
                      int                                               depth,
                      const std::string &                               context,
                      std::vector<std::pair<std::string, at::Tensor>> & tensors)
{
  if (depth > 16)
  {
    throw InputError(context + ": network modules nested deeper than 16 (not an NSA network)");
  }
  for (const std::string & key : archive.keys())
  {
    at::Tensor tensor;
    if (archive.try_read(key, tensor))
    {
      tensors.emplace_back(prefix + key, tensor);
      continue;
    }
    torch::serialize::InputArchive child;
    if (archive.try_read(key, child))
    {
      CollectArchiveTensors(child, prefix + key + ".", depth + 1, context, tensors);
    }
  }
}

} // namespace

std::shared_ptr<Model::Impl>
ReadModelFile(const std::string & path, CheckpointState * state)
{
  const std::string context = "model file '" + path + "'";
  if (!std::ifstream(path, std::ios::binary))
  {
    throw InputError(context + ": cannot open the file");
  }
  // Zip structure, CRCs, record sizes and pickle bounds, before LibTorch allocates anything.
  CheckArchive(path, context);
  auto impl = std::make_shared<Model::Impl>();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  torch::serialize::InputArchive archive;
  try
  {
    archive.load_from(path, torch::Device(torch::kCPU));
  }
  catch (const c10::Error & error)
  {
    throw InputError(context + ": not a LibTorch archive: " + error.what_without_backtrace());
  }
  try
  {
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != ModelFormat)
    {
      throw InputError(context + ": not an NSA model file (expected format '" + ModelFormat + "')");
    }
    c10::IValue configuration;
    if (!archive.try_read("configuration", configuration) || !configuration.isString())
    {
      throw InputError(context + ": the model description ('configuration') is missing");
    }
    const nlohmann::json json = ParseJsonText(configuration.toStringRef(), context + ": configuration");
    try
    {
      impl->description = ModelDescription::FromJson(json, context);
    }
    catch (const ParameterError & error)
    {
      throw InputError(error.what());
    }
    torch::serialize::InputArchive networkArchive;
    if (!archive.try_read("network", networkArchive))
    {
      throw InputError(context + ": the network weights ('network') are missing");
    }
    CollectArchiveTensors(networkArchive, "", 0, context, tensors);
  }
  catch (const c10::Error & error)
  {
    throw InputError(context + ": " + error.what_without_backtrace());
  }
  // Every tensor against the network the description builds, before it is built: a
  // description that claims a far larger network than the weights present costs nothing.
  CheckNamedTensors(ExpectedTensors(impl->description.network), tensors, context + ": weights do not fit the described network",
                    /*convertFloating=*/false);
  impl->network = MakeNetwork(impl->description.network);
  LoadNamedTensors(*impl->network, tensors, context, /*convertFloating=*/false);
  if (state != nullptr)
  {
    try
    {
      torch::serialize::InputArchive optimizerArchive;
      if (archive.try_read("optimizer", optimizerArchive))
      {
        state->optimizer = std::make_unique<torch::serialize::InputArchive>(std::move(optimizerArchive));
      }
      c10::IValue trainer;
      state->trainer = nullptr;
      if (archive.try_read("trainer", trainer) && trainer.isString())
      {
        state->trainer = ParseJsonText(trainer.toStringRef(), context + ": trainer state");
      }
    }
    catch (const c10::Error & error)
    {
      throw InputError(context + ": " + error.what_without_backtrace());
    }
  }
  return impl;
}

void
SetNetworkThreads(int threads)
{
  if (threads > 0 && at::get_num_threads() != threads)
  {
    at::set_num_threads(threads);
  }
}

// ---------------------------------------------------------------------------------------
Model::Model(const ModelDescription & description, std::uint64_t seed)
  : m_Impl(std::make_shared<Impl>())
{
  m_Impl->description = description;
  torch::manual_seed(seed);
  m_Impl->network = MakeNetwork(description.network);
}

Model::Model(std::shared_ptr<Impl> impl)
  : m_Impl(std::move(impl))
{}

Model
Model::Load(const std::string & path)
{
  return Model(ReadModelFile(path));
}

void
Model::Save(const std::string & path) const
{
  WriteModelFile(path, *m_Impl);
}

void
Model::ImportStateDict(const std::string & path)
{
  nsa::ImportStateDict(*m_Impl->network, path);
}

const ModelDescription &
Model::GetDescription() const
{
  return m_Impl->description;
}

ModelDescription &
Model::GetDescription()
{
  return m_Impl->description;
}

std::int64_t
Model::ParameterCount() const
{
  return m_Impl->network->ParameterCount();
}

std::vector<float>
Model::Evaluate(const std::vector<float> & input, const std::vector<std::int64_t> & sizes) const
{
  std::int64_t count = 1;
  for (auto size : sizes)
  {
    count *= size;
  }
  if (sizes.size() < 3 || count != static_cast<std::int64_t>(input.size()))
  {
    throw InputError("model evaluate: " + std::to_string(input.size()) + " values do not match the given sizes");
  }
  torch::NoGradGuard noGrad;
  m_Impl->network->eval();
  const at::Tensor tensor =
    at::from_blob(const_cast<float *>(input.data()), sizes, at::TensorOptions().dtype(at::kFloat));
  const auto device = m_Impl->network->parameters().front().device();
  const at::Tensor output = m_Impl->network->forward(tensor.to(device)).to(at::kCPU).contiguous();
  return std::vector<float>(output.data_ptr<float>(), output.data_ptr<float>() + output.numel());
}

} // namespace nsa
