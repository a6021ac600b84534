// Cost of the exact streaming voxel evaluation: one case (sort into a distinct-score table,
// connected components), merging case tables into the cohort table, and the metrics.
//
//   NSAEvaluationBenchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Results: Documentation/Evaluation.md.
#include "nsaCaseEvaluation.h"
#include "nsaRankMetrics.h"
#include "nsaRandom.h"

#include <benchmark/benchmark.h>

#include <cmath>

namespace
{
using MapType = itk::Image<float, 3>;
using MaskType = itk::Image<unsigned char, 3>;

/** A size^3 case: a spherical lesion of radius size/8 and a sigmoid score map (network-like
 * float32 output), or the same quantised to 8 bits (`levels` = 256). */
struct Case
{
  MapType::Pointer  map;
  MaskType::Pointer mask;

  Case(long size, int levels, std::uint64_t seed)
  {
    map = MapType::New();
    mask = MaskType::New();
    MapType::SizeType s{ { static_cast<unsigned long>(size), static_cast<unsigned long>(size),
                           static_cast<unsigned long>(size) } };
    map->SetRegions(s);
    map->Allocate();
    mask->SetRegions(s);
    mask->Allocate();
    nsa::RandomStream random(seed, 0, 0, nsa::RandomPurpose::Test);
    const double      c = size / 2.0, r = size / 8.0;
    size_t            i = 0;
    for (long z = 0; z < size; ++z)
      for (long y = 0; y < size; ++y)
        for (long x = 0; x < size; ++x, ++i)
        {
          const bool lesion = std::pow(x - c, 2) + std::pow(y - c, 2) + std::pow(z - c, 2) <= r * r;
          mask->GetBufferPointer()[i] = lesion ? 1 : 0;
          const double logit = random.Normal(lesion ? 2.0 : -3.0, 1.5);
          float        score = static_cast<float>(1.0 / (1.0 + std::exp(-logit)));
          if (levels > 0)
          {
            score = std::round(score * (levels - 1)) / (levels - 1);
          }
          map->GetBufferPointer()[i] = score;
        }
  }
};

void
BM_EvaluateCase(benchmark::State & state)
{
  const Case                  c(state.range(0), static_cast<int>(state.range(1)), 1);
  nsa::VoxelEvaluationOptions options;
  options.scoreBits = static_cast<int>(state.range(2));
  size_t                      entries = 0;
  for (auto _ : state)
  {
    const auto result = nsa::EvaluateCaseVoxels<3>(c.map, c.mask, nullptr, options);
    entries = result.table.Entries().size();
    benchmark::DoNotOptimize(entries);
  }
  const double voxels = std::pow(static_cast<double>(state.range(0)), 3);
  state.counters["voxels"] = voxels;
  state.counters["table_entries"] = static_cast<double>(entries);
  state.counters["table_MiB"] = entries * sizeof(nsa::ScoreTable<float>::Entry) / 1048576.0;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * voxels));
}
// Arguments: size (128^3 = 2.1 M voxels; 256^3 = 16.8 M, a MOOD brain volume), levels (0 =
// float32 map, 256 = 8-bit map), score bits (23 = exact; 16 and 12 round).
BENCHMARK(BM_EvaluateCase)
  ->Args({ 128, 0, 23 })
  ->Args({ 128, 256, 23 })
  ->Args({ 256, 0, 23 })
  ->Args({ 256, 256, 23 })
  ->Args({ 256, 0, 16 })
  ->Args({ 256, 0, 12 })
  ->Unit(benchmark::kMillisecond);

void
BM_MergeAndMetrics(benchmark::State & state)
{
  // Cohort table after `cases` float32 cases of 128^3 (different seeds), then one more case
  // merged in and all metrics computed: the per-case cost of streaming late in a cohort.
  const int                   cases = static_cast<int>(state.range(0));
  nsa::VoxelEvaluationOptions options;
  options.scoreBits = static_cast<int>(state.range(1));
  nsa::ScoreTable<float>      cohort;
  std::uint64_t               components = 0;
  for (int k = 0; k < cases; ++k)
  {
    const Case c(128, 0, 100 + k);
    const auto result = nsa::EvaluateCaseVoxels<3>(c.map, c.mask, nullptr, options);
    cohort.Merge(result.table);
    components += result.components;
  }
  const Case next(128, 0, 99);
  const auto nextTable = nsa::EvaluateCaseVoxels<3>(next.map, next.mask, nullptr, options).table;
  for (auto _ : state)
  {
    nsa::ScoreTable<float> merged = cohort;
    merged.Merge(nextTable);
    benchmark::DoNotOptimize(nsa::AreaUnderRocCurve(merged));
    benchmark::DoNotOptimize(nsa::AveragePrecision(merged));
    benchmark::DoNotOptimize(nsa::AreaUnderProCurve(merged, components + 1));
    benchmark::DoNotOptimize(nsa::MaximumDice(merged));
  }
  state.counters["cohort_entries"] = static_cast<double>(cohort.Entries().size());
  state.counters["cohort_MiB"] = cohort.Entries().size() * sizeof(nsa::ScoreTable<float>::Entry) / 1048576.0;
}
// Arguments: cases already in the cohort, score bits.
BENCHMARK(BM_MergeAndMetrics)->Args({ 1, 23 })->Args({ 8, 23 })->Args({ 8, 16 })->Unit(benchmark::kMillisecond);
} // namespace

BENCHMARK_MAIN();
