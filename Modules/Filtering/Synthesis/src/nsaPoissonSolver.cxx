#include "nsaPoissonSolver.h"

#include "nsaGridText.h"
#include "nsaPoissonMultigrid.h"

#include "nsaError.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

namespace nsa
{

using detail::Multigrid;
using detail::SizeToString;

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
  /** Per unknown: its offset in the box padded by one zero voxel per side (matrix products). */
  std::vector<std::size_t> PaddedOffsets;
  std::size_t              PaddedCount{ 0 };
  /** Strides of the padded box and axis weights, 3 entries (0 on axes beyond the dimension). */
  std::array<std::size_t, 3> PaddedStride{ 0, 0, 0 };
  std::array<double, 3>      Weight3{ 0.0, 0.0, 0.0 };
  bool                      FillsWorkingGrid{ false };

  /** DST along all axes but the last (none in 1D) of the working grid. */
  std::unique_ptr<DiscreteSineTransform> Transform;
  std::unique_ptr<Multigrid>             Cycle; // multigrid preconditioner
  std::size_t                            WorkingCount{ 0 };
  std::size_t                            Block{ 0 }; // modes per line of the last axis
  std::size_t                            Lines{ 0 }; // working extent of the last axis
  float                                  Scale{ 1.0f };
  float                                  LastWeight{ 0.0f };
  /** Per voxel of the working grid (mode fastest): Thomas algorithm 1 / denominator. */
  std::vector<float> InverseDenominator;

  /** Number of unknowns. When they fill the box (FillsWorkingGrid) the offset tables are
   * not built: unknown j is box voxel j. */
  std::size_t UnknownCount{ 0 };

  std::size_t
  Count() const
  {
    return UnknownCount;
  }

  /** q = A p: p is scattered into a zero-padded dense box (non-unknowns stay zero), then the
   * stencil is evaluated at the unknowns without branches. */
  void
  ApplyOperator(const std::vector<double> & p, std::vector<double> & q, double * dense) const
  {
    const std::size_t count = Count();
    for (std::size_t j = 0; j < count; ++j)
    {
      dense[PaddedOffsets[j]] = p[j];
    }
    const std::size_t s0 = PaddedStride[0];
    const std::size_t s1 = PaddedStride[1];
    const std::size_t s2 = PaddedStride[2];
    const double      w0 = Weight3[0];
    const double      w1 = Weight3[1];
    const double      w2 = Weight3[2];
    for (std::size_t j = 0; j < count; ++j)
    {
      const double * v = dense + PaddedOffsets[j];
      q[j] = Diagonal * v[0] - w0 * (v[-static_cast<std::ptrdiff_t>(s0)] + v[s0]) -
             w1 * (v[-static_cast<std::ptrdiff_t>(s1)] + v[s1]) - w2 * (v[-static_cast<std::ptrdiff_t>(s2)] + v[s2]);
    }
  }

  /** Scratch memory of Solve. One per thread (thread_local in Solve), reused from call to
   * call: for 3D boxes it is tens of MB, and mapping fresh pages for it on every call cost
   * more than the solve itself (page faults were 40 % of a 64^3 box solve). */
  struct Workspace
  {
    DiscreteSineTransform::BufferType Buffer;
    std::size_t                       BufferCapacity{ 0 };
    Multigrid::Workspace              Levels;
    std::vector<double>               Dense;
    std::vector<double>               Rhs;
    std::vector<double>               Solution;
    std::vector<double>               Residual;
    std::vector<double>               PreviousResidual;
    std::vector<double>               Preconditioned;
    std::vector<double>               Direction;
    std::vector<double>               Product;
  };

  void
  PrepareWorkspace(Workspace & workspace) const
  {
    workspace.Dense.assign(PaddedCount, 0.0);
    if (Cycle)
    {
      Cycle->PrepareWorkspace(workspace.Levels);
    }
    else if (workspace.BufferCapacity < WorkingCount)
    {
      workspace.Buffer = DiscreteSineTransform::AllocateBuffer(WorkingCount);
      workspace.BufferCapacity = WorkingCount;
    }
    // Every entry of these is written before it is read.
    for (auto * vector : { &workspace.Residual,
                           &workspace.PreviousResidual,
                           &workspace.Preconditioned,
                           &workspace.Direction,
                           &workspace.Product })
    {
      vector->resize(Count());
    }
  }

  void
  ApplyPreconditioner(const std::vector<double> & r, std::vector<double> & z, Workspace & workspace) const
  {
    if (Cycle)
    {
      Cycle->Apply(r, z, workspace.Levels);
    }
    else
    {
      ApplyTransformSolve(r, z, workspace.Buffer.get());
    }
  }

  /** z = (Poisson solve of the working box, restricted to the unknowns) r. */
  void
  ApplyTransformSolve(const std::vector<double> & r, std::vector<double> & z, float * buffer) const
  {
    const std::size_t count = Count();
    std::fill(buffer, buffer + WorkingCount, 0.0f); // (filled boxes take Solve's direct path)
    for (std::size_t j = 0; j < count; ++j)
    {
      buffer[WorkingOffsets[j]] = static_cast<float>(r[j]);
    }
    SolveWorkingGrid(buffer);
    for (std::size_t j = 0; j < count; ++j)
    {
      z[j] = static_cast<double>(buffer[WorkingOffsets[j]]);
    }
  }

  /** In place: the Poisson solve of the working grid (FACR(0)). */
  void
  SolveWorkingGrid(float * buffer) const
  {
    if (Transform)
    {
      Transform->Transform(buffer);
    }
    // Thomas algorithm along the last axis, all modes of a line at once (contiguous).
    const float   w = LastWeight;
    const float * inverse = InverseDenominator.data();
    for (std::size_t m = 0; m < Block; ++m)
    {
      buffer[m] *= Scale * inverse[m];
    }
    for (std::size_t j = 1; j < Lines; ++j)
    {
      float *       current = buffer + j * Block;
      const float * previous = current - Block;
      const float * factor = inverse + j * Block;
      for (std::size_t m = 0; m < Block; ++m)
      {
        current[m] = (Scale * current[m] + w * previous[m]) * factor[m];
      }
    }
    for (std::size_t j = Lines - 1; j-- > 0;)
    {
      float *       current = buffer + j * Block;
      const float * next = current + Block;
      const float * factor = inverse + j * Block;
      for (std::size_t m = 0; m < Block; ++m)
      {
        current[m] += w * factor[m] * next[m];
      }
    }
    if (Transform)
    {
      Transform->Transform(buffer);
    }
  }

  /** r = b - A x on a box the unknowns fill (box order, x fastest): x is copied row by row
   * into the zero-padded dense box, then the stencil runs row by row without branches. */
  void
  FilledBoxResidual(const double * x, const double * b, double * r, double * dense) const
  {
    const std::size_t n0 = Size[0];
    const std::size_t n1 = Size.size() > 1 ? Size[1] : 1;
    const std::size_t n2 = Size.size() > 2 ? Size[2] : 1;
    const std::size_t s1 = PaddedStride[1];
    const std::size_t s2 = PaddedStride[2];
    const auto        rowStart = [&](std::size_t j, std::size_t k) {
      return 1 + (Size.size() > 1 ? (j + 1) * s1 : 0) + (Size.size() > 2 ? (k + 1) * s2 : 0);
    };
    for (std::size_t k = 0; k < n2; ++k)
    {
      for (std::size_t j = 0; j < n1; ++j)
      {
        const double * row = x + (k * n1 + j) * n0;
        std::copy(row, row + n0, dense + rowStart(j, k));
      }
    }
    const double w0 = Weight3[0];
    const double w1 = Weight3[1];
    const double w2 = Weight3[2];
    for (std::size_t k = 0; k < n2; ++k)
    {
      for (std::size_t j = 0; j < n1; ++j)
      {
        const double * v = dense + rowStart(j, k);
        // The x neighbours through their own row pointers: v[i - 1] with the unsigned i = 0
        // wrapped the offset around (undefined pointer arithmetic; UBSan pointer-overflow).
        const double * left = v - 1;
        const double * right = v + 1;
        const double * below1 = v - s1;
        const double * above1 = v + s1;
        const double * below2 = v - s2;
        const double * above2 = v + s2;
        const std::size_t offset = (k * n1 + j) * n0;
        for (std::size_t i = 0; i < n0; ++i)
        {
          const double product = Diagonal * v[i] - w0 * (left[i] + right[i]) - w1 * (below1[i] + above1[i]) -
                                 w2 * (below2[i] + above2[i]);
          r[offset + i] = b[offset + i] - product;
        }
      }
    }
  }

  // The set-up steps of the constructor, in order.
  /** The working grid: the box, enlarged to fast DST lengths along all axes but the last
   * when the DST preconditioner solves a box the unknowns do not fill. */
  void
  ChooseWorkingGrid(bool fillsBox, bool useMultigrid)
  {
    const std::size_t dimension = Size.size();
    WorkingSize = Size;
    // A filled box is solved directly by one DST of the box itself (no enlargement).
    if (SolverOptions.EnlargeToFastSize && !fillsBox && !useMultigrid)
    {
      // The last axis is solved by tridiagonal systems, which take any length.
      for (std::size_t i = 0; i + 1 < dimension; ++i)
      {
        WorkingSize[i] = DiscreteSineTransform::NextFastLength(WorkingSize[i]);
      }
    }
    FillsWorkingGrid = fillsBox && WorkingSize == Size;
  }

  /** Strides of the box padded by one zero voxel per side (for the matrix products), and
   * PaddedCount, PaddedStride, Weight3; unused axes: stride 0 and weight 0, so the stencil
   * reads the centre voxel with weight zero there. */
  std::vector<std::size_t>
  PaddedStrides()
  {
    const std::size_t        dimension = Size.size();
    std::vector<std::size_t> paddedStride(dimension, 1);
    PaddedCount = 1;
    for (std::size_t i = 0; i < dimension; ++i)
    {
      paddedStride[i] = PaddedCount;
      PaddedCount *= Size[i] + 2;
      if (i < 3)
      {
        PaddedStride[i] = paddedStride[i];
        Weight3[i] = Weights[i];
      }
    }
    if (dimension > 3)
    {
      throw ParameterError("PoissonSolver: at most 3 dimensions are supported");
    }
    return paddedStride;
  }

  /** The offset tables of the unknowns (box, working grid with the box centred in it,
   * padded box), unless the unknowns fill the working grid. */
  void
  BuildOffsetTables(const std::vector<unsigned char> & unknowns, const std::vector<std::size_t> & paddedStride)
  {
    const std::size_t        dimension = Size.size();
    std::vector<std::size_t> workStride(dimension, 1);
    std::size_t              workOrigin = 0;
    std::size_t              total = 1;
    for (std::size_t i = 1; i < dimension; ++i)
    {
      workStride[i] = workStride[i - 1] * WorkingSize[i - 1];
    }
    for (std::size_t i = 0; i < dimension; ++i)
    {
      workOrigin += ((WorkingSize[i] - Size[i]) / 2) * workStride[i];
      total *= Size[i];
    }
    if (FillsWorkingGrid)
    {
      return;
    }
    BoxOffsets.reserve(UnknownCount);
    WorkingOffsets.reserve(UnknownCount);
    PaddedOffsets.reserve(UnknownCount);
    std::vector<std::size_t> index(dimension, 0);
    for (std::size_t offset = 0; offset < total; ++offset)
    {
      if (unknowns[offset] != 0)
      {
        std::size_t workOffset = workOrigin;
        std::size_t paddedOffset = 0;
        for (std::size_t i = 0; i < dimension; ++i)
        {
          workOffset += index[i] * workStride[i];
          paddedOffset += (index[i] + 1) * paddedStride[i];
        }
        BoxOffsets.push_back(offset);
        WorkingOffsets.push_back(workOffset);
        PaddedOffsets.push_back(paddedOffset);
      }
      for (std::size_t i = 0; i < dimension; ++i)
      {
        if (++index[i] < Size[i])
        {
          break;
        }
        index[i] = 0;
      }
    }
  }

  /** The eigenvalue of every transformed mode of the leading axes:
   * sum over them of w_i (2 - 2 cos(pi k / (n + 1))). */
  std::vector<double>
  ModeEigenvalues() const
  {
    const double        pi = 3.14159265358979323846;
    const std::size_t   last = WorkingSize.size() - 1;
    std::vector<double> modeEigenvalue(Block, 0.0);
    std::size_t         stride = 1;
    for (std::size_t i = 0; i < last; ++i)
    {
      const std::size_t n = WorkingSize[i];
      for (std::size_t m = 0; m < Block; ++m)
      {
        const std::size_t k = (m / stride) % n;
        modeEigenvalue[m] +=
          Weights[i] * (2.0 - 2.0 * std::cos(pi * static_cast<double>(k + 1) / static_cast<double>(n + 1)));
      }
      stride *= n;
    }
    return modeEigenvalue;
  }

  /** The fast Poisson solver on the working grid (Fourier analysis + cyclic reduction's
   * simplest form, "FACR(0)"): DST-I along all axes but the last, then, for every
   * transformed mode, a tridiagonal system along the last axis. This saves the slowest third
   * (3D) or half (2D) of the transforms of a full DST solve, and the last axis may have any
   * length. */
  void
  PrepareFastSolver()
  {
    const std::size_t dimension = WorkingSize.size();
    const std::size_t last = dimension - 1;
    WorkingCount = 1;
    for (const std::size_t extent : WorkingSize)
    {
      WorkingCount *= extent;
    }
    Lines = WorkingSize[last];
    Block = WorkingCount / Lines;
    double normalisation = 1.0;
    if (dimension > 1)
    {
      Transform = std::make_unique<DiscreteSineTransform>(WorkingSize, dimension - 1);
      normalisation = Transform->GetNormalisationFactor();
    }
    Scale = static_cast<float>(1.0 / normalisation);
    LastWeight = static_cast<float>(Weights[last]);
    const std::vector<double> modeEigenvalue = ModeEigenvalues();
    // Thomas algorithm factors of  -w x_{j-1} + (lambda + 2w) x_j - w x_{j+1} = r_j  per mode:
    // 1 / denominator_j, with denominator_0 = d and denominator_j = d - w^2 / denominator_{j-1}.
    InverseDenominator.resize(WorkingCount);
    const double        w = Weights[last];
    std::vector<double> denominator(Block);
    for (std::size_t j = 0; j < Lines; ++j)
    {
      for (std::size_t m = 0; m < Block; ++m)
      {
        const double d = modeEigenvalue[m] + 2.0 * w;
        denominator[m] = j == 0 ? d : d - w * w / denominator[m];
        InverseDenominator[j * Block + m] = static_cast<float>(1.0 / denominator[m]);
      }
    }
  }
};

namespace
{
/** Inner product with four partial sums: a fixed summation order (results do not depend on
 * anything but the inputs) that does not serialise on the latency of one accumulator. */
double
Dot(const double * a, const double * b, std::size_t n)
{
  double            s0 = 0.0;
  double            s1 = 0.0;
  double            s2 = 0.0;
  double            s3 = 0.0;
  std::size_t       j = 0;
  for (; j + 4 <= n; j += 4)
  {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < n; ++j)
  {
    s0 += a[j] * b[j];
  }
  return (s0 + s1) + (s2 + s3);
}

double
Dot(const std::vector<double> & a, const std::vector<double> & b)
{
  return Dot(a.data(), b.data(), a.size());
}

/** Checks the constructor's arguments; returns the number of voxels of the box. */
std::size_t
CheckedBoxVoxels(const PoissonSolver::SizeType &    size,
                 const std::vector<double> &        axisWeights,
                 const std::vector<unsigned char> & unknowns,
                 const PoissonSolver::Options &     options)
{
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
  return total;
}

/** The number of unknowns (non-zero entries of the mask); throws for none or too many. */
std::size_t
CheckedUnknownCount(const std::vector<unsigned char> & unknowns)
{
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
  return count;
}
} // namespace

PoissonSolver::PoissonSolver(SizeType                   size,
                             std::vector<double>        axisWeights,
                             std::vector<unsigned char> unknowns,
                             Options                    options)
  : m_Internals(std::make_unique<Internals>())
{
  Internals & s = *m_Internals;
  const std::size_t total = CheckedBoxVoxels(size, axisWeights, unknowns, options);
  s.Size = std::move(size);
  s.Weights = std::move(axisWeights);
  s.SolverOptions = options;
  s.Diagonal = 2.0 * std::accumulate(s.Weights.begin(), s.Weights.end(), 0.0);
  s.UnknownCount = CheckedUnknownCount(unknowns);

  const bool fillsBox = s.UnknownCount == total;
  const bool useMultigrid = !fillsBox && options.Preconditioner == PreconditionerEnum::Multigrid;
  s.ChooseWorkingGrid(fillsBox, useMultigrid);
  s.BuildOffsetTables(unknowns, s.PaddedStrides());
  if (useMultigrid)
  {
    s.Cycle = std::make_unique<Multigrid>(s.Size, s.Weights, s.BoxOffsets);
    const auto & extent = s.Cycle->GetFinestExtent();
    s.WorkingSize.assign(extent.begin(), extent.begin() + static_cast<std::ptrdiff_t>(s.Size.size()));
    return;
  }
  s.PrepareFastSolver();
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

  thread_local Internals::Workspace workspace;
  if (s.FillsWorkingGrid)
  {
    // The unknowns fill the DST grid: the box solve is the inverse up to float rounding, and
    // iterative refinement in double (x += P(b - A x)) gains about seven digits per step.
    const double rhsNorm = std::sqrt(Dot(b, b, count));
    if (rhsNorm == 0.0)
    {
      std::fill(x, x + count, 0.0);
      report.Converged = true;
      return report;
    }
    s.PrepareWorkspace(workspace);
    std::vector<double> & residual = workspace.Residual;
    float *               buffer = workspace.Buffer.get();
    const double          tolerance = s.SolverOptions.RelativeTolerance * rhsNorm;
    s.FilledBoxResidual(x, b, residual.data(), workspace.Dense.data());
    double residualNorm = std::sqrt(Dot(residual, residual));
    while (residualNorm > tolerance && report.Iterations < s.SolverOptions.MaximumNumberOfIterations)
    {
      for (std::size_t j = 0; j < count; ++j)
      {
        buffer[j] = static_cast<float>(residual[j]);
      }
      s.SolveWorkingGrid(buffer);
      for (std::size_t j = 0; j < count; ++j)
      {
        x[j] += static_cast<double>(buffer[j]);
      }
      ++report.Iterations;
      const double previousNorm = residualNorm;
      s.FilledBoxResidual(x, b, residual.data(), workspace.Dense.data());
      residualNorm = std::sqrt(Dot(residual, residual));
      if (!(residualNorm < 0.5 * previousNorm))
      {
        break; // refinement stalled (float rounding dominates): report what was reached
      }
    }
    report.RelativeResidual = residualNorm / rhsNorm;
    report.Converged = residualNorm <= tolerance;
    return report;
  }
  std::vector<double> &             rhs = workspace.Rhs;
  std::vector<double> &             solution = workspace.Solution;
  rhs.resize(count);
  solution.resize(count);
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

  s.PrepareWorkspace(workspace);
  std::vector<double> & residual = workspace.Residual;
  std::vector<double> & previousResidual = workspace.PreviousResidual;
  std::vector<double> & preconditioned = workspace.Preconditioned;
  std::vector<double> & direction = workspace.Direction;
  std::vector<double> & product = workspace.Product;
  const double          tolerance = s.SolverOptions.RelativeTolerance * rhsNorm;

  auto trueResidual = [&]() {
    s.ApplyOperator(solution, product, workspace.Dense.data());
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
    s.ApplyPreconditioner(residual, preconditioned, workspace);
    direction = preconditioned;
    double rz = Dot(residual, preconditioned);
    while (report.Iterations < s.SolverOptions.MaximumNumberOfIterations)
    {
      s.ApplyOperator(direction, product, workspace.Dense.data());
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
      s.ApplyPreconditioner(residual, preconditioned, workspace);
      // Polak-Ribiere: beta = z_new . (r_new - r_old) / (z_old . r_old)
      const double rzNew = Dot(preconditioned, residual);
      const double rzCross = Dot(preconditioned, previousResidual);
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
