#include "nsaPoissonSolver.h"

#include "nsaError.h"

#include "itkFFTWGlobalConfiguration.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <string>

namespace nsa
{

namespace
{

/** Plans of the DST grids used so far, keyed by size. Plans are never destroyed: they are
 * small, their number is bounded by the distinct (fast) sizes used, and destroying them at
 * exit would race with FFTW's and ITK's own static clean-up. */
struct PlanCache
{
  std::mutex                                   Mutex;
  std::map<std::vector<std::size_t>, fftwf_plan> Plans;
};

PlanCache &
GetPlanCache()
{
  static auto * cache = new PlanCache; // intentionally leaked, see above
  return *cache;
}

std::string
SizeToString(const std::vector<std::size_t> & size)
{
  std::string text;
  for (std::size_t i = 0; i < size.size(); ++i)
  {
    text += (i ? "x" : "") + std::to_string(size[i]);
  }
  return text;
}

} // namespace

void
DiscreteSineTransform::BufferDeleter::operator()(float * buffer) const noexcept
{
  fftwf_free(buffer);
}

DiscreteSineTransform::BufferType
DiscreteSineTransform::AllocateBuffer(std::size_t count)
{
  auto * memory = static_cast<float *>(fftwf_malloc(std::max<std::size_t>(count, 1) * sizeof(float)));
  if (memory == nullptr)
  {
    throw Error("DiscreteSineTransform: cannot allocate " + std::to_string(count) + " floats");
  }
  return BufferType(memory);
}

DiscreteSineTransform::DiscreteSineTransform(SizeType size)
  : m_Size(std::move(size))
{
  if (m_Size.empty())
  {
    throw ParameterError("DiscreteSineTransform: the grid needs at least one axis");
  }
  m_NumberOfElements = 1;
  for (const std::size_t extent : m_Size)
  {
    if (extent == 0 || extent > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    {
      throw ParameterError("DiscreteSineTransform: invalid grid size " + SizeToString(m_Size));
    }
    m_NumberOfElements *= extent;
  }

  PlanCache &                 cache = GetPlanCache();
  std::lock_guard<std::mutex> cacheLock(cache.Mutex);
  auto                        found = cache.Plans.find(m_Size);
  if (found == cache.Plans.end())
  {
    // FFTW is row-major (last index fastest); ITK buffers are x fastest.
    const int             rank = static_cast<int>(m_Size.size());
    std::vector<int>      extents(m_Size.rbegin(), m_Size.rend());
    std::vector<fftw_r2r_kind> kinds(m_Size.size(), FFTW_RODFT00);
    BufferType            scratch = AllocateBuffer(m_NumberOfElements);
    fftwf_plan            plan = nullptr;
    {
      // FFTW's planner is not thread-safe; ITK's FFT filters plan under this lock too.
      std::lock_guard<std::mutex> plannerLock(itk::FFTWGlobalConfiguration::GetLockMutex());
      plan = fftwf_plan_r2r(rank, extents.data(), scratch.get(), scratch.get(), kinds.data(), FFTW_ESTIMATE);
    }
    if (plan == nullptr)
    {
      throw Error("DiscreteSineTransform: FFTW could not plan a DST-I of size " + SizeToString(m_Size));
    }
    found = cache.Plans.emplace(m_Size, plan).first;
  }
  m_Plan = found->second;
}

void
DiscreteSineTransform::Transform(float * data) const
{
  // New-array execution requires the alignment the plan was made for (fftwf_malloc's).
  if (fftwf_alignment_of(data) != 0)
  {
    throw ParameterError("DiscreteSineTransform::Transform: buffer not from AllocateBuffer (misaligned)");
  }
  fftwf_execute_r2r(static_cast<fftwf_plan>(m_Plan), data, data);
}

double
DiscreteSineTransform::GetNormalizationFactor() const
{
  double factor = 1.0;
  for (const std::size_t extent : m_Size)
  {
    factor *= 2.0 * static_cast<double>(extent + 1);
  }
  return factor;
}

bool
DiscreteSineTransform::IsFastLength(std::size_t n)
{
  std::size_t m = n + 1;
  for (const std::size_t factor : { 2, 3, 5, 7 })
  {
    while (m % factor == 0)
    {
      m /= factor;
    }
  }
  return m == 1;
}

std::size_t
DiscreteSineTransform::NextFastLength(std::size_t n)
{
  while (!IsFastLength(n))
  {
    ++n;
  }
  return n;
}

struct PoissonSolver::Internals
{
  SizeType            Size;
  SizeType            WorkingSize;
  std::vector<double> Weights;
  Options             SolverOptions;
  double              Diagonal{ 0.0 };

  /** Per unknown: its offset in the box and in the working grid. */
  std::vector<std::size_t> BoxOffsets;
  std::vector<std::size_t> WorkingOffsets;
  /** Per unknown, 2 D entries (axis-major, minus then plus): the neighbour's unknown index or -1. */
  std::vector<std::int32_t> Neighbours;
  bool                      FillsWorkingGrid{ false };

  std::unique_ptr<DiscreteSineTransform> Transform;
  /** Per axis: the eigenvalues of w_i times the second difference on N_i points, multiplied by
   * the normalisation factor so that one division per coefficient remains. */
  std::vector<std::vector<float>> ScaledEigenvalues;

  std::size_t
  Count() const
  {
    return BoxOffsets.size();
  }

  void
  ApplyOperator(const std::vector<double> & p, std::vector<double> & q) const
  {
    const std::size_t dimension2 = 2 * Size.size();
    const std::size_t count = Count();
    for (std::size_t j = 0; j < count; ++j)
    {
      double               value = Diagonal * p[j];
      const std::int32_t * neighbours = &Neighbours[j * dimension2];
      for (std::size_t a = 0; a < dimension2; ++a)
      {
        if (neighbours[a] >= 0)
        {
          value -= Weights[a / 2] * p[static_cast<std::size_t>(neighbours[a])];
        }
      }
      q[j] = value;
    }
  }

  /** z = (DST solve of the working box, restricted to the unknowns) r. */
  void
  ApplyPreconditioner(const std::vector<double> & r, std::vector<double> & z, float * buffer) const
  {
    const std::size_t total = Transform->GetNumberOfElements();
    const std::size_t count = Count();
    if (!FillsWorkingGrid)
    {
      std::fill(buffer, buffer + total, 0.0f);
    }
    for (std::size_t j = 0; j < count; ++j)
    {
      buffer[WorkingOffsets[j]] = static_cast<float>(r[j]);
    }
    Transform->Transform(buffer);

    const std::size_t   dimension = WorkingSize.size();
    const std::size_t   rowLength = WorkingSize[0];
    const std::size_t   rows = total / rowLength;
    std::vector<size_t> index(dimension, 0);
    const float *       eigenvalues0 = ScaledEigenvalues[0].data();
    for (std::size_t row = 0; row < rows; ++row)
    {
      float outer = 0.0f;
      for (std::size_t i = 1; i < dimension; ++i)
      {
        outer += ScaledEigenvalues[i][index[i]];
      }
      float * values = buffer + row * rowLength;
      for (std::size_t k = 0; k < rowLength; ++k)
      {
        values[k] /= outer + eigenvalues0[k];
      }
      for (std::size_t i = 1; i < dimension; ++i)
      {
        if (++index[i] < WorkingSize[i])
        {
          break;
        }
        index[i] = 0;
      }
    }

    Transform->Transform(buffer);
    for (std::size_t j = 0; j < count; ++j)
    {
      z[j] = static_cast<double>(buffer[WorkingOffsets[j]]);
    }
  }
};

namespace
{
double
Dot(const std::vector<double> & a, const std::vector<double> & b)
{
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
} // namespace

PoissonSolver::PoissonSolver(SizeType                   size,
                             std::vector<double>        axisWeights,
                             std::vector<unsigned char> unknowns,
                             Options                    options)
  : m_Internals(std::make_unique<Internals>())
{
  Internals & s = *m_Internals;
  const std::size_t dimension = size.size();
  if (dimension == 0 || axisWeights.size() != dimension)
  {
    throw ParameterError("PoissonSolver: " + std::to_string(axisWeights.size()) + " axis weights for a " +
                         std::to_string(dimension) + "-dimensional box");
  }
  std::size_t total = 1;
  for (const std::size_t extent : size)
  {
    if (extent == 0)
    {
      throw ParameterError("PoissonSolver: empty box " + SizeToString(size));
    }
    total *= extent;
  }
  if (unknowns.size() != total)
  {
    throw ParameterError("PoissonSolver: the unknown mask has " + std::to_string(unknowns.size()) +
                         " entries, the box " + SizeToString(size) + " has " + std::to_string(total));
  }
  for (const double weight : axisWeights)
  {
    if (!(weight > 0.0) || !std::isfinite(weight))
    {
      throw ParameterError("PoissonSolver: axis weights must be positive and finite");
    }
  }
  if (!(options.RelativeTolerance > 0.0))
  {
    throw ParameterError("PoissonSolver: the relative tolerance must be positive");
  }

  s.Size = std::move(size);
  s.Weights = std::move(axisWeights);
  s.SolverOptions = options;
  s.Diagonal = 2.0 * std::accumulate(s.Weights.begin(), s.Weights.end(), 0.0);

  const std::size_t count = static_cast<std::size_t>(std::count_if(unknowns.begin(), unknowns.end(), [](unsigned char v) {
    return v != 0;
  }));
  if (count == 0)
  {
    throw ParameterError("PoissonSolver: no unknown voxel in the box");
  }
  if (count > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
  {
    throw ParameterError("PoissonSolver: too many unknowns");
  }
  const bool fillsBox = count == total;

  s.WorkingSize = s.Size;
  if (options.EnlargeToFastSize)
  {
    for (std::size_t & extent : s.WorkingSize)
    {
      extent = DiscreteSineTransform::NextFastLength(extent);
    }
  }
  s.FillsWorkingGrid = fillsBox && s.WorkingSize == s.Size;

  // Strides of the box and of the working grid, and the box's (centred) place in the latter.
  std::vector<std::size_t> boxStride(dimension, 1);
  std::vector<std::size_t> workStride(dimension, 1);
  std::size_t              workOrigin = 0;
  for (std::size_t i = 1; i < dimension; ++i)
  {
    boxStride[i] = boxStride[i - 1] * s.Size[i - 1];
    workStride[i] = workStride[i - 1] * s.WorkingSize[i - 1];
  }
  for (std::size_t i = 0; i < dimension; ++i)
  {
    workOrigin += ((s.WorkingSize[i] - s.Size[i]) / 2) * workStride[i];
  }

  std::vector<std::int32_t> unknownIndex(total, -1);
  s.BoxOffsets.reserve(count);
  s.WorkingOffsets.reserve(count);
  {
    std::vector<std::size_t> index(dimension, 0);
    for (std::size_t offset = 0; offset < total; ++offset)
    {
      if (unknowns[offset] != 0)
      {
        std::size_t workOffset = workOrigin;
        for (std::size_t i = 0; i < dimension; ++i)
        {
          workOffset += index[i] * workStride[i];
        }
        unknownIndex[offset] = static_cast<std::int32_t>(s.BoxOffsets.size());
        s.BoxOffsets.push_back(offset);
        s.WorkingOffsets.push_back(workOffset);
      }
      for (std::size_t i = 0; i < dimension; ++i)
      {
        if (++index[i] < s.Size[i])
        {
          break;
        }
        index[i] = 0;
      }
    }
  }

  s.Neighbours.assign(2 * dimension * count, -1);
  for (std::size_t j = 0; j < count; ++j)
  {
    std::size_t offset = s.BoxOffsets[j];
    for (std::size_t i = 0; i < dimension; ++i)
    {
      const std::size_t coordinate = (offset / boxStride[i]) % s.Size[i];
      if (coordinate > 0)
      {
        s.Neighbours[j * 2 * dimension + 2 * i] = unknownIndex[offset - boxStride[i]];
      }
      if (coordinate + 1 < s.Size[i])
      {
        s.Neighbours[j * 2 * dimension + 2 * i + 1] = unknownIndex[offset + boxStride[i]];
      }
    }
  }

  s.Transform = std::make_unique<DiscreteSineTransform>(s.WorkingSize);
  const double normalization = s.Transform->GetNormalizationFactor();
  const double pi = 3.14159265358979323846;
  s.ScaledEigenvalues.resize(dimension);
  for (std::size_t i = 0; i < dimension; ++i)
  {
    const std::size_t n = s.WorkingSize[i];
    s.ScaledEigenvalues[i].resize(n);
    for (std::size_t k = 0; k < n; ++k)
    {
      const double eigenvalue =
        s.Weights[i] * (2.0 - 2.0 * std::cos(pi * static_cast<double>(k + 1) / static_cast<double>(n + 1)));
      s.ScaledEigenvalues[i][k] = static_cast<float>(eigenvalue * normalization);
    }
  }
}

PoissonSolver::~PoissonSolver() = default;

const PoissonSolver::SizeType &
PoissonSolver::GetWorkingSize() const
{
  return m_Internals->WorkingSize;
}

std::size_t
PoissonSolver::GetNumberOfUnknowns() const
{
  return m_Internals->Count();
}

PoissonSolver::Report
PoissonSolver::Solve(const double * b, double * x) const
{
  const Internals & s = *m_Internals;
  const std::size_t count = s.Count();
  Report            report;

  std::vector<double> rhs(count);
  std::vector<double> solution(count);
  for (std::size_t j = 0; j < count; ++j)
  {
    rhs[j] = b[s.BoxOffsets[j]];
    solution[j] = x[s.BoxOffsets[j]];
  }
  const double rhsNorm = std::sqrt(Dot(rhs, rhs));
  if (rhsNorm == 0.0)
  {
    for (std::size_t j = 0; j < count; ++j)
    {
      x[s.BoxOffsets[j]] = 0.0;
    }
    report.Converged = true;
    return report;
  }

  DiscreteSineTransform::BufferType buffer = DiscreteSineTransform::AllocateBuffer(s.Transform->GetNumberOfElements());
  std::vector<double>               residual(count);
  std::vector<double>               previousResidual(count);
  std::vector<double>               preconditioned(count);
  std::vector<double>               direction(count);
  std::vector<double>               product(count);
  const double                      tolerance = s.SolverOptions.RelativeTolerance * rhsNorm;

  auto trueResidual = [&]() {
    s.ApplyOperator(solution, product);
    for (std::size_t j = 0; j < count; ++j)
    {
      residual[j] = rhs[j] - product[j];
    }
    return std::sqrt(Dot(residual, residual));
  };

  double residualNorm = trueResidual();
  // The recurrence for the residual drifts from the true residual over many iterations; a
  // restart from the true residual (at most a few) guards the reported figure.
  for (unsigned int restart = 0; restart < 3 && residualNorm > tolerance; ++restart)
  {
    s.ApplyPreconditioner(residual, preconditioned, buffer.get());
    direction = preconditioned;
    double rz = Dot(residual, preconditioned);
    while (report.Iterations < s.SolverOptions.MaximumNumberOfIterations)
    {
      s.ApplyOperator(direction, product);
      const double curvature = Dot(direction, product);
      if (!(curvature > 0.0) || !(rz > 0.0))
      {
        break; // breakdown: the true residual below decides
      }
      const double alpha = rz / curvature;
      previousResidual.swap(residual);
      for (std::size_t j = 0; j < count; ++j)
      {
        solution[j] += alpha * direction[j];
        residual[j] = previousResidual[j] - alpha * product[j];
      }
      ++report.Iterations;
      if (std::sqrt(Dot(residual, residual)) <= tolerance)
      {
        break;
      }
      s.ApplyPreconditioner(residual, preconditioned, buffer.get());
      // Polak-Ribiere: beta = z_new . (r_new - r_old) / (z_old . r_old)
      double rzNew = 0.0;
      double rzCross = 0.0;
      for (std::size_t j = 0; j < count; ++j)
      {
        rzNew += preconditioned[j] * residual[j];
        rzCross += preconditioned[j] * previousResidual[j];
      }
      const double beta = std::max(0.0, (rzNew - rzCross) / rz);
      rz = rzNew;
      for (std::size_t j = 0; j < count; ++j)
      {
        direction[j] = preconditioned[j] + beta * direction[j];
      }
    }
    residualNorm = trueResidual();
    if (report.Iterations >= s.SolverOptions.MaximumNumberOfIterations)
    {
      break;
    }
  }

  report.RelativeResidual = residualNorm / rhsNorm;
  report.Converged = residualNorm <= tolerance;
  for (std::size_t j = 0; j < count; ++j)
  {
    x[s.BoxOffsets[j]] = solution[j];
  }
  return report;
}

} // namespace nsa
