// Median time per synthesised NSA sample (issue 9), one thread:
//
//   NSASynthesisBenchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Cases:
// - Texture2D/<blend>/<label>: a 256 x 256 grey-level texture (values 0..255), the paper's
//   texture setting: up to 4 patches, width bounds 0.03-0.4, resize 0.5-2, logistic k = 1/3,
//   x0 = 7 grey levels (label_intensity_scale 255), no object mask.
// - Volume3D/<n>: an n^3 smooth volume, brain-mri preset geometry (3 patches, Poisson with
//   source gradients, logistic labels; medians of radius 1 and 2, see Documentation/Synthesis.md).
// - Colin27: /usr/share/mricron/templates/ch2.nii.gz (181 x 217 x 181, mricron-data) with the
//   brain-mri preset (object mask from the intensity threshold computed once, outside the
//   timing, as a data loader does).
// Each iteration synthesises a different sample (sample index = iteration), so the times
// average over patch sizes. Counters: patches = blended patches per sample.

#include "nsaPreset.h"
#include "nsaSynthesis.h"

#include "itkImageFileReader.h"
#include "itkMultiThreaderBase.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <string>

namespace
{

template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
MakeTexture(unsigned int size, double seed)
{
  using ImageType = itk::Image<float, VDimension>;
  auto                         image = ImageType::New();
  typename ImageType::SizeType imageSize;
  imageSize.Fill(size);
  image->SetRegions(imageSize);
  image->Allocate();
  float *      buffer = image->GetBufferPointer();
  const size_t count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t j = 0; j < count; ++j)
  {
    const double x = static_cast<double>(j % size);
    const double y = static_cast<double>((j / size) % size);
    const double z = VDimension > 2 ? static_cast<double>(j / (size * size)) : 0.0;
    const double noise = std::sin(12.9898 * x + 78.233 * y + 37.719 * z + seed) * 43758.5453;
    const double value = 128.0 + 60.0 * std::sin(0.21 * x + 0.13 * y + 0.17 * z + seed) +
                         30.0 * std::sin(0.05 * x - 0.07 * y + 0.03 * z) + 25.0 * (noise - std::floor(noise));
    buffer[j] = static_cast<float>(std::max(0.0, std::min(255.0, value)));
  }
  return image;
}

void
Texture2D(benchmark::State & state, const std::string & blend, const std::string & label)
{
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);
  auto                     destination = MakeTexture<2>(256, 0.0);
  auto                     source = MakeTexture<2>(256, 1.7);
  nsa::SynthesisParameters p;
  p.num_patches = 4;
  p.width_bounds = { 0.03, 0.4 };
  p.resize_bounds = { 0.5, 2.0 };
  p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
  p.label_mode = nsa::FromString<nsa::LabelMode>(label);
  p.logistic_k = 255.0 / 3.0;
  p.logistic_x0 = 7.0 / 255.0;
  p.label_intensity_scale = 255.0;
  std::uint64_t index = 0;
  double        patches = 0;
  for (auto _ : state)
  {
    auto result = nsa::Synthesize<2>(destination, source, nullptr, nullptr, p,
                                     nsa::RandomStream(1, 0, index++, nsa::RandomPurpose::Synthesis), 1);
    patches += result.record.NumberOfBlendedPatches();
    benchmark::DoNotOptimize(result.image->GetBufferPointer());
  }
  state.counters["patches"] = patches / static_cast<double>(state.iterations());
}

nsa::SynthesisParameters
BrainParameters()
{
  return nsa::LoadPreset("brain-mri").synthesis;
}

void
Volume3D(benchmark::State & state)
{
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);
  const auto               size = static_cast<unsigned int>(state.range(0));
  auto                     destination = MakeTexture<3>(size, 0.0);
  auto                     source = MakeTexture<3>(size, 1.7);
  nsa::SynthesisParameters p = BrainParameters();
  p.object_mask = nsa::ObjectMask::None;
  std::uint64_t index = 0;
  double        patches = 0;
  for (auto _ : state)
  {
    auto result = nsa::Synthesize<3>(destination, source, nullptr, nullptr, p,
                                     nsa::RandomStream(1, 0, index++, nsa::RandomPurpose::Synthesis), 1);
    patches += result.record.NumberOfBlendedPatches();
    benchmark::DoNotOptimize(result.image->GetBufferPointer());
  }
  state.counters["patches"] = patches / static_cast<double>(state.iterations());
}

void
Colin27(benchmark::State & state)
{
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);
  const std::string path = "/usr/share/mricron/templates/ch2.nii.gz";
  if (!std::filesystem::exists(path))
  {
    state.SkipWithError("ch2.nii.gz not found (Debian package mricron-data)");
    return;
  }
  using ImageType = itk::Image<float, 3>;
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetFileName(path);
  reader->Update();
  ImageType::Pointer image = reader->GetOutput();
  const auto         p = BrainParameters();
  auto               mask = nsa::ComputeObjectMask<3>(image, p);
  std::uint64_t      index = 0;
  double             patches = 0;
  for (auto _ : state)
  {
    // The same scan as destination and source: a different normal scan would cost the same.
    auto result = nsa::Synthesize<3>(image, image, mask, mask, p,
                                     nsa::RandomStream(1, 0, index++, nsa::RandomPurpose::Synthesis), 1);
    patches += result.record.NumberOfBlendedPatches();
    benchmark::DoNotOptimize(result.image->GetBufferPointer());
  }
  state.counters["patches"] = patches / static_cast<double>(state.iterations());
}

} // namespace

BENCHMARK_CAPTURE(Texture2D, mixed_logistic, std::string("poisson-mixed"), std::string("logistic-intensity"))
  ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Texture2D, source_logistic, std::string("poisson-source"), std::string("logistic-intensity"))
  ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Texture2D, mixed_binary, std::string("poisson-mixed"), std::string("binary"))
  ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Texture2D, swap_logistic, std::string("swap"), std::string("logistic-intensity"))
  ->Unit(benchmark::kMillisecond);
BENCHMARK(Volume3D)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(Colin27)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
