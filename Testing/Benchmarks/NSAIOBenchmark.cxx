// IO module: reading a NIfTI study, normalising it, and writing maps as NIfTI, NRRD, DICOM
// Segmentation (binary, fractional) and Parametric Map, on Colin27's grid
// (181 x 217 x 181, 7.1 M voxels, from the Debian package mricron-data).
//
//   NSAIOBenchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include "nsaDicomWriters.h"
#include "nsaImageIO.h"
#include "nsaNormalisation.h"
#include "nsaStudy.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <string>

namespace
{
using FloatImage = itk::Image<float, 3>;

const std::string &
Colin27()
{
  static const std::string path = "/usr/share/mricron/templates/ch2.nii.gz";
  return path;
}

std::string
Output(const std::string & name)
{
  static const std::string folder = [] {
    const auto f = std::filesystem::temp_directory_path() / "nsa-io-benchmark";
    std::filesystem::create_directories(f);
    return f.string();
  }();
  return folder + "/" + name;
}

/** A score map in [0, 1] on Colin27's grid: a smooth blob. */
const FloatImage *
ScoreMap()
{
  static const FloatImage::Pointer map = [] {
    const auto study = nsa::ReadStudy(Colin27());
    auto       out = FloatImage::New();
    out->CopyInformation(study.image);
    out->SetRegions(study.image->GetLargestPossibleRegion());
    out->Allocate();
    const auto size = out->GetLargestPossibleRegion().GetSize();
    float *    p = out->GetBufferPointer();
    for (size_t z = 0; z < size[2]; ++z)
      for (size_t y = 0; y < size[1]; ++y)
        for (size_t x = 0; x < size[0]; ++x)
        {
          const double r2 = std::pow((x - 90.0) / 20.0, 2) + std::pow((y - 110.0) / 25.0, 2) + std::pow((z - 90.0) / 15.0, 2);
          *p++ = static_cast<float>(std::exp(-r2));
        }
    return out;
  }();
  return map.GetPointer();
}

void
BM_ReadStudyNiftiGz(benchmark::State & state)
{
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(nsa::ReadStudy(Colin27()).image.GetPointer());
  }
}
BENCHMARK(BM_ReadStudyNiftiGz)->Unit(benchmark::kMillisecond);

void
BM_NormalisePercentile(benchmark::State & state)
{
  const auto                   study = nsa::ReadStudy(Colin27());
  nsa::NormalisationParameters parameters; // percentile 1..99 above the minimum
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(nsa::Normalise(study.image.GetPointer(), parameters).GetPointer());
  }
}
BENCHMARK(BM_NormalisePercentile)->Unit(benchmark::kMillisecond);

void
BM_WriteImage(benchmark::State & state, const char * name, bool compress)
{
  const FloatImage * map = ScoreMap();
  for (auto _ : state)
  {
    nsa::WriteImage(map, Output(name), compress);
  }
}
BENCHMARK_CAPTURE(BM_WriteImage, nii_gz, "map.nii.gz", true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WriteImage, nrrd_raw, "map.nrrd", false)->Unit(benchmark::kMillisecond);

void
BM_WriteDicomSegmentation(benchmark::State & state)
{
  const FloatImage *       map = ScoreMap();
  nsa::StudyMetadata       source; // standalone
  nsa::SegmentationOptions options;
  options.fractional = state.range(0) != 0;
  for (auto _ : state)
  {
    nsa::WriteDicomSegmentation(map, source, Output("seg.dcm"), options);
  }
}
BENCHMARK(BM_WriteDicomSegmentation)->ArgName("fractional")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void
BM_WriteParametricMap(benchmark::State & state)
{
  const FloatImage * map = ScoreMap();
  nsa::StudyMetadata source;
  for (auto _ : state)
  {
    nsa::WriteParametricMap(map, source, Output("pm.dcm"));
  }
}
BENCHMARK(BM_WriteParametricMap)->Unit(benchmark::kMillisecond);

void
BM_ReadParametricMap(benchmark::State & state)
{
  nsa::WriteParametricMap(ScoreMap(), nsa::StudyMetadata(), Output("pm-read.dcm"));
  for (auto _ : state)
  {
    benchmark::DoNotOptimize(nsa::ReadParametricMap(Output("pm-read.dcm")).image.GetPointer());
  }
}
BENCHMARK(BM_ReadParametricMap)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
