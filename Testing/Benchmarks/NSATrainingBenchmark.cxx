// Training and prediction speed of the Learning module (Documentation/Benchmarks.md).
//
//   NSATrainingBenchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// TrainingStep: one Adam step (forward, BCE, backward, update) of the paper's network on a
// batch of 8, the same work as Testing/Benchmarks/nsa_pytorch_reference.py benchmark does in
// Python's PyTorch; arguments: width x 1000, input channels, image size.
// Pipeline: synthesised training samples per second of the data pipeline alone on Colin27
// axial slices (one thread; the trainer runs num_workers of them).
// Predict: a whole 181 x 217 x 181 Colin27 volume, 2D slice-wise and 3D sliding window.
// LibTorch threads: NSA_BENCHMARK_THREADS (default 2); Colin27: NSA_COLIN27 (default
// /usr/share/mricron/templates/ch2.nii.gz); glibc malloc: NSATrain's settings (nsaAllocator.h),
// or glibc's own with NSA_BENCHMARK_GLIBC_MALLOC=default. The CPU column is the CPU time of the whole
// process (all threads), which a loaded shared machine inflates far less than wall time;
// nsa_pytorch_reference.py reports the same for Python.

#include "nsaAllocator.h"
#include "nsaModelImpl.h"
#include "nsaNormalisation.h"
#include "nsaPredictor.h"
#include "nsaPreset.h"
#include "nsaStudy.h"
#include "nsaStudyPipeline.h"
#include "nsaTrainer.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <tuple>

namespace
{

int
Threads()
{
  const char * value = std::getenv("NSA_BENCHMARK_THREADS");
  return value ? std::atoi(value) : 2;
}

std::string
Colin27Path()
{
  const char * value = std::getenv("NSA_COLIN27");
  return value ? value : "/usr/share/mricron/templates/ch2.nii.gz";
}

itk::Image<float, 3>::Pointer
NormalisedColin27()
{
  static itk::Image<float, 3>::Pointer volume;
  if (!volume)
  {
    volume = nsa::Normalise<itk::Image<float, 3>>(nsa::ReadStudy(Colin27Path()).image,
                                                  nsa::LoadPreset("brain-mri").normalisation);
  }
  return volume;
}

/** A network, its optimizer and a batch, built and warmed up (two steps) once per
 * configuration, so that repetitions time steady-state steps only. */
struct TrainingSetup
{
  std::unique_ptr<nsa::Model>         model;
  std::unique_ptr<torch::optim::Adam> optimizer;
  at::Tensor                          input;
  at::Tensor                          label;

  void
  Step()
  {
    optimizer->zero_grad();
    const at::Tensor loss =
      at::binary_cross_entropy_with_logits(model->GetImpl().network->ForwardLogits(input), label);
    loss.backward();
    optimizer->step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
};

TrainingSetup &
GetTrainingSetup(std::int64_t width, std::int64_t channels, std::int64_t size)
{
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, TrainingSetup> setups;
  auto & setup = setups[{ width, channels, size }];
  if (!setup.model)
  {
    nsa::ModelDescription description;
    description.network.width_multiplier = width / 1000.0;
    description.network.input_channels = static_cast<int>(channels);
    setup.model = std::make_unique<nsa::Model>(description, 1);
    setup.model->GetImpl().network->train();
    setup.optimizer = std::make_unique<torch::optim::Adam>(setup.model->GetImpl().network->parameters(),
                                                           torch::optim::AdamOptions(1e-3));
    setup.input = at::rand({ 8, channels, size, size });
    setup.label = (at::rand({ 8, 1, size, size }) > 0.9).to(at::kFloat);
    setup.Step();
    setup.Step();
  }
  return setup;
}

void
TrainingStep(benchmark::State & state)
{
  nsa::SetNetworkThreads(Threads()); // only when it differs: each change replaces LibTorch's pthreadpool
  TrainingSetup & setup = GetTrainingSetup(state.range(0), state.range(1), state.range(2));
  for (auto _ : state)
  {
    setup.Step();
  }
  state.SetItemsProcessed(state.iterations() * 8);
  state.counters["threads"] = at::get_num_threads();
}
BENCHMARK(TrainingStep)
  ->ArgNames({ "width_x1000", "channels", "size" })
  ->Args({ 1000, 1, 128 })
  ->Args({ 1000, 3, 256 })
  ->Args({ 250, 1, 128 })
  ->Args({ 250, 1, 256 })
  ->Unit(benchmark::kMillisecond)
  ->MeasureProcessCPUTime()
  ->UseRealTime();

void
Pipeline(benchmark::State & state)
{
  const auto            volume = NormalisedColin27();
  nsa::ModelDescription description;
  const nsa::Preset     preset = nsa::LoadPreset("brain-mri");
  description.normalisation = preset.normalisation;
  description.synthesis = preset.synthesis;
  description.training = preset.training;
  nsa::TrainerOptions options;
  options.model_path = "/tmp/nsa-benchmark-unused.pt";
  nsa::Trainer  trainer(description, { { volume, nullptr, "colin27" } }, options);
  std::int64_t  index = 0;
  double        blended = 0;
  for (auto _ : state)
  {
    const nsa::TrainingSample sample = trainer.MakeSample(0, index++);
    blended += sample.blended_patches;
    benchmark::DoNotOptimize(sample.label.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["blended_per_sample"] = blended / std::max<double>(1, state.iterations());
  state.counters["units"] = static_cast<double>(trainer.NumberOfUnits());
}
BENCHMARK(Pipeline)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

void
Predict(benchmark::State & state)
{
  nsa::SetNetworkThreads(Threads()); // only when it differs: each change replaces LibTorch's pthreadpool
  const auto            volume = NormalisedColin27();
  nsa::ModelDescription description;
  description.network.dimension = static_cast<int>(state.range(0));
  description.network.width_multiplier = state.range(1) / 1000.0;
  nsa::PredictionParameters parameters;
  parameters.device = "cpu";
  parameters.batch_size = 8;
  if (description.network.dimension == 3)
  {
    parameters.window_size = { 96, 96, 96 };
    parameters.window_overlap = 0.25;
    parameters.batch_size = 1;
  }
  const nsa::Predictor predictor(nsa::Model(description, 1), parameters);
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(predictor.Predict(volume.GetPointer())->GetBufferPointer());
  }
  state.counters["threads"] = at::get_num_threads();
}
BENCHMARK(Predict)
  ->ArgNames({ "dimension", "width_x1000" })
  ->Args({ 2, 1000 })
  ->Args({ 2, 250 })
  ->Args({ 3, 250 })
  ->Iterations(1)
  ->Unit(benchmark::kSecond)
  ->MeasureProcessCPUTime()
  ->UseRealTime();

} // namespace

// The allocator settings NSATrain and NSAPredict run with (nsaAllocator.h), set before main()
// so that every benchmark sees them, unless NSA_BENCHMARK_GLIBC_MALLOC=default asks for
// glibc's own, to measure what they change.
const bool allocatorSettings = [] {
  const char * glibcMalloc = std::getenv("NSA_BENCHMARK_GLIBC_MALLOC");
  return !(glibcMalloc && std::string(glibcMalloc) == "default") && nsa::KeepFreedMemoryForReuse();
}();

BENCHMARK_MAIN();
