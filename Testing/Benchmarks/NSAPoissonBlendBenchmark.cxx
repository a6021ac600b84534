// Median solve times of itk::PoissonBlendImageFilter (issue 8) and the DST floor under it.
//
//   NSAPoissonBlendBenchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Cases (n = box edge in voxels):
// - DSTFloor/<D>D/n: one forward + one inverse DST-I of an n^D float grid through FFTW
//   (nsa::DiscreteSineTransform), the floor of a full spectral solve of that box (the solver
//   itself transforms all axes but the last and solves tridiagonal systems along it).
// - Blend/<D>D/<formulation>/<mask>/n: one filter update (copy of the destination, system
//   set-up, solve, write-back). 2D: a 512 x 512 image, as in the OpenCV comparison; 3D: an
//   image of (n + 32)^3. The mask is the whole n^D box ("rect") or the ellipse / ellipsoid
//   inscribed in it ("ellipse", NSA's patch shape). Exact = unknowns on the mask, the filter's
//   default solver (a filled box: one direct solve; otherwise a multigrid-preconditioned
//   conjugate gradient); ExactDST = the conjugate gradient preconditioned by the box solve on
//   fast lengths instead (UseMultigrid off); Box = OpenCV's bounding-rectangle solve.
// - BoxSolve/<D>D/n: nsa::PoissonSolver alone on a filled n^D box (set-up + solve), the
//   counterpart of SciPy's dstn solve in poisson_reference_benchmark.py.
// Counters: iterations (1 for a direct solve, 2 when float rounding needs a refinement),
// residual (relative, float64, before rounding to float).
// Everything runs on one thread (FFTW plans are single-threaded; the filter does not thread).
// Timings depend on the machine; see Documentation/PoissonBlending.md for recorded figures.

#include "itkImageRegionIteratorWithIndex.h"
#include "itkMultiThreaderBase.h"
#include "itkPoissonBlendImageFilter.h"
#include "nsaPoissonSolver.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

namespace
{

enum class MaskShape
{
  Rectangle,
  Ellipse
};

enum class Variant
{
  Exact,    // default: multigrid-preconditioned conjugate gradient (direct DST for a filled box)
  ExactDST, // DST-preconditioned conjugate gradient on the box enlarged to fast lengths
  Box
};

template <unsigned int VDimension>
void
FillTexture(itk::Image<float, VDimension> * image, double amplitude, double seed)
{
  float * buffer = image->GetBufferPointer();
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const size_t count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t j = 0; j < count; ++j)
  {
    const double x = static_cast<double>(j % size[0]);
    const double y = static_cast<double>((j / size[0]) % size[1]);
    const double z = VDimension > 2 ? static_cast<double>(j / (size[0] * size[1])) : 0.0;
    const double noise = std::sin(12.9898 * x + 78.233 * y + 37.719 * z + seed) * 43758.5453;
    buffer[j] = static_cast<float>(100.0 + amplitude * std::sin(0.05 * x + 0.03 * y + 0.04 * z + seed) +
                                   0.1 * amplitude * (noise - std::floor(noise)));
  }
}

template <unsigned int VDimension>
void
BenchmarkBlend(benchmark::State & state, Variant variant, MaskShape shape)
{
  using ImageType = itk::Image<float, VDimension>;
  using MaskType = itk::Image<unsigned char, VDimension>;
  using FilterType = itk::PoissonBlendImageFilter<ImageType>;
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);

  const auto                   n = static_cast<itk::SizeValueType>(state.range(0));
  typename ImageType::SizeType size;
  size.Fill(VDimension == 2 ? 512 : n + 32);
  const typename ImageType::RegionType region(size);

  auto destination = ImageType::New();
  auto source = ImageType::New();
  auto mask = MaskType::New();
  for (itk::ImageBase<VDimension> * image :
       std::initializer_list<itk::ImageBase<VDimension> *>{ destination.GetPointer(), source.GetPointer(), mask.GetPointer() })
  {
    image->SetRegions(region);
    image->Allocate();
  }
  FillTexture<VDimension>(destination, 30.0, 1.0);
  FillTexture<VDimension>(source, 60.0, 2.0);
  mask->FillBuffer(0);
  typename ImageType::IndexType corner;
  for (unsigned int i = 0; i < VDimension; ++i)
  {
    corner[i] = static_cast<itk::IndexValueType>((size[i] - n) / 2);
  }
  typename ImageType::SizeType boxSize;
  boxSize.Fill(n);
  const typename ImageType::RegionType box(corner, boxSize);
  for (itk::ImageRegionIteratorWithIndex<MaskType> it(mask, box); !it.IsAtEnd(); ++it)
  {
    double radius = 0.0;
    for (unsigned int i = 0; i < VDimension; ++i)
    {
      const double centre = static_cast<double>(corner[i]) + 0.5 * static_cast<double>(n - 1);
      const double d = (static_cast<double>(it.GetIndex()[i]) - centre) / (0.5 * static_cast<double>(n));
      radius += d * d;
    }
    it.Set(shape == MaskShape::Rectangle || radius <= 1.0 ? 1 : 0);
  }

  auto filter = FilterType::New();
  filter->SetDestinationImage(destination);
  filter->SetSourceImage(source);
  filter->SetMaskImage(mask);
  filter->SetFormulation(variant == Variant::Box ? FilterType::FormulationEnum::Box : FilterType::FormulationEnum::Exact);
  filter->SetUseMultigrid(variant != Variant::ExactDST);
  filter->SetNumberOfWorkUnits(1);
  filter->Update(); // plans are created once, outside the timed loop
  for (auto _ : state)
  {
    filter->Modified();
    filter->Update();
    benchmark::DoNotOptimize(filter->GetOutput()->GetBufferPointer());
  }
  state.counters["iterations"] = filter->GetNumberOfIterations();
  state.counters["residual"] = filter->GetRelativeResidual();
}

/** One forward + inverse DST-I of an n^D grid along all axes: "DSTFloor" through FFTW's
 * RODFT00 (the floor issue 8 defines), "DST" through the toolkit's automatic algorithm
 * (packed complex FFT or dense sine matrix per axis, see nsa::DiscreteSineTransform). */
void
BenchmarkDSTFloor(benchmark::State & state, unsigned int dimension, nsa::DiscreteSineTransform::AlgorithmEnum algorithm)
{
  const auto                        n = static_cast<size_t>(state.range(0));
  const nsa::DiscreteSineTransform  transform(std::vector<size_t>(dimension, n), 0, algorithm);
  nsa::DiscreteSineTransform::BufferType buffer =
    nsa::DiscreteSineTransform::AllocateBuffer(transform.GetNumberOfElements());
  for (size_t j = 0; j < transform.GetNumberOfElements(); ++j)
  {
    buffer[j] = static_cast<float>(j % 17) - 8.0f;
  }
  const float scale = static_cast<float>(1.0 / transform.GetNormalisationFactor());
  for (auto _ : state)
  {
    transform.Transform(buffer.get());
    transform.Transform(buffer.get());
    // Keep the values bounded across iterations (the pair multiplies by the normalisation).
    buffer[0] *= scale;
    benchmark::DoNotOptimize(buffer.get());
  }
}

/** The solver alone on a box that the unknowns fill (what SciPy's dstn solve computes):
 * construction (plan look-up, Thomas factors) plus Solve from a zero initial guess, which
 * includes the two float64 residual evaluations that check the 1e-6 tolerance. */
void
BenchmarkBoxSolve(benchmark::State & state, unsigned int dimension)
{
  const auto          n = static_cast<size_t>(state.range(0));
  size_t              count = 1;
  std::vector<size_t> size(dimension, n);
  for (unsigned int i = 0; i < dimension; ++i)
  {
    count *= n;
  }
  std::vector<double> rhs(count);
  for (size_t j = 0; j < count; ++j)
  {
    const double noise = std::sin(12.9898 * static_cast<double>(j)) * 43758.5453;
    rhs[j] = noise - std::floor(noise) - 0.5;
  }
  std::vector<double> solution(count);
  const std::vector<unsigned char> unknowns(count, 1);
  nsa::PoissonSolver::Report       report;
  for (auto _ : state)
  {
    std::fill(solution.begin(), solution.end(), 0.0);
    const nsa::PoissonSolver solver(size, std::vector<double>(dimension, 1.0), unknowns, {});
    report = solver.Solve(rhs.data(), solution.data());
    benchmark::DoNotOptimize(solution.data());
  }
  state.counters["iterations"] = report.Iterations;
  state.counters["residual"] = report.RelativeResidual;
}

const std::vector<int64_t> kSizes2D{ 64, 128, 256 };
constexpr auto             kRealToReal = nsa::DiscreteSineTransform::AlgorithmEnum::RealToReal;
constexpr auto             kAutomatic = nsa::DiscreteSineTransform::AlgorithmEnum::Automatic;
const std::vector<int64_t> kSizes3D{ 32, 64, 96 };

void
Register()
{
  for (const int64_t n : kSizes2D)
  {
    // The fast neighbours the exact solve enlarges to, for comparison.
    const auto fast = static_cast<int64_t>(nsa::DiscreteSineTransform::NextFastLength(static_cast<size_t>(n)));
    for (const int64_t m : { n, fast })
    {
      benchmark::RegisterBenchmark("DSTFloor/2D", BenchmarkDSTFloor, 2, kRealToReal)->Arg(m)->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("DST/2D", BenchmarkDSTFloor, 2, kAutomatic)->Arg(m)->Unit(benchmark::kMillisecond);
    }
  }
  for (const int64_t n : kSizes3D)
  {
    const auto fast = static_cast<int64_t>(nsa::DiscreteSineTransform::NextFastLength(static_cast<size_t>(n)));
    for (const int64_t m : { n, fast })
    {
      benchmark::RegisterBenchmark("DSTFloor/3D", BenchmarkDSTFloor, 3, kRealToReal)->Arg(m)->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("DST/3D", BenchmarkDSTFloor, 3, kAutomatic)->Arg(m)->Unit(benchmark::kMillisecond);
    }
  }
  for (const int64_t n : kSizes2D)
  {
    benchmark::RegisterBenchmark("BoxSolve/2D", BenchmarkBoxSolve, 2)->Arg(n)->Unit(benchmark::kMillisecond);
  }
  for (const int64_t n : kSizes3D)
  {
    benchmark::RegisterBenchmark("BoxSolve/3D", BenchmarkBoxSolve, 3)->Arg(n)->Unit(benchmark::kMillisecond);
  }
  const std::pair<Variant, std::string>   variants[] = { { Variant::Exact, "Exact" },
                                                       { Variant::ExactDST, "ExactDST" },
                                                       { Variant::Box, "Box" } };
  const std::pair<MaskShape, std::string> shapes[] = { { MaskShape::Rectangle, "rect" },
                                                       { MaskShape::Ellipse, "ellipse" } };
  for (const auto & [shape, shapeName] : shapes)
  {
    for (const auto & [variant, variantName] : variants)
    {
      const std::string name2 = "Blend/2D/" + variantName + "/" + shapeName;
      const std::string name3 = "Blend/3D/" + variantName + "/" + shapeName;
      for (const int64_t n : kSizes2D)
      {
        benchmark::RegisterBenchmark(name2.c_str(), BenchmarkBlend<2>, variant, shape)
          ->Arg(n)
          ->Unit(benchmark::kMillisecond);
      }
      for (const int64_t n : kSizes3D)
      {
        benchmark::RegisterBenchmark(name3.c_str(), BenchmarkBlend<3>, variant, shape)
          ->Arg(n)
          ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

} // namespace

int
main(int argc, char ** argv)
{
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
  {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
