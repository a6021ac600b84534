#ifndef nsaPoissonMultigrid_h
#define nsaPoissonMultigrid_h

// Private to the Synthesis module: the multigrid preconditioner of nsa::PoissonSolver.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nsa
{
namespace detail
{


/** Geometric multigrid V(2,2)-cycle for the masked Poisson problem, used as the
 * preconditioner of the conjugate gradient (see PoissonSolver). Grids are dense boxes with a
 * one-voxel zero halo on every real axis, stored as 3D (a 2D grid has a phantom third axis of
 * extent 1, stride 0 and weight 0). Non-unknown voxels hold zero (homogeneous Dirichlet).
 * The finest box is enlarged at its upper end so that every coarsening halves n + 1 exactly
 * (coarse voxel I sits on fine voxel 2I + 1); the added voxels are not unknowns.
 * Everything is float: the cycle only has to approximate the inverse. */
class Multigrid
{
public:
  struct Level
  {
    std::array<std::size_t, 3> Extent{ 1, 1, 1 }; // interior voxels per axis
    std::array<std::size_t, 3> Halo{ 0, 0, 0 };   // 1 on real axes
    std::array<std::size_t, 3> Stride{ 0, 0, 0 }; // of the padded array; 0 on phantom axes
    std::array<float, 3>       Weight{ 0.0f, 0.0f, 0.0f };
    std::array<bool, 3>        CoarsenNext{ false, false, false };
    float                      Diagonal{ 0.0f };
    float                      InverseDiagonal{ 0.0f };
    std::size_t                Count{ 0 }; // padded voxels
    std::vector<unsigned char> Unknown;    // padded
    std::vector<float>         MaskValue;  // padded, 1 on unknowns, 0 elsewhere (branch-free loops)
    /** Interior voxels [0, Active) per axis hold every unknown: loops stop there. The finest
     * box is enlarged so that coarsening halves it exactly (a 128^2 box becomes 159^2); the
     * enlargement holds no unknowns, stays zero and costs nothing this way. */
    std::array<std::size_t, 3> Active{ 1, 1, 1 };

    std::size_t
    Offset(std::size_t i, std::size_t j, std::size_t k) const
    {
      return (i + Halo[0]) + (j + Halo[1]) * Stride[1] + (k + Halo[2]) * Stride[2];
    }
  };

  struct Workspace
  {
    std::vector<std::vector<float>> X;
    std::vector<std::vector<float>> B;
    std::vector<std::vector<float>> R;
  };

  Multigrid(const std::vector<std::size_t> & size,
            const std::vector<double> &      weights,
            const std::vector<std::size_t> & boxOffsets)
  {
    const std::size_t dimension = size.size();
    // Coarsening schedule: an axis is coarsened while it has at least 7 voxels and its
    // coupling is within a factor 3.5 of the strongest coarsenable axis (semi-coarsening
    // for anisotropic spacing keeps the point smoother effective).
    std::array<std::size_t, 3>       extent{ 1, 1, 1 };
    std::array<double, 3>            weight{ 0.0, 0.0, 0.0 };
    std::vector<std::array<bool, 3>> schedule;
    for (std::size_t a = 0; a < dimension; ++a)
    {
      extent[a] = size[a];
      weight[a] = weights[a];
    }
    while (schedule.size() < 16)
    {
      double strongest = 0.0;
      for (std::size_t a = 0; a < dimension; ++a)
      {
        if (extent[a] >= 7)
        {
          strongest = std::max(strongest, weight[a]);
        }
      }
      if (strongest == 0.0)
      {
        break;
      }
      std::array<bool, 3> coarsen{ false, false, false };
      for (std::size_t a = 0; a < dimension; ++a)
      {
        if (extent[a] >= 7 && weight[a] * 3.5 >= strongest)
        {
          coarsen[a] = true;
          extent[a] = (extent[a] - 1) / 2;
          weight[a] /= 4.0;
        }
      }
      schedule.push_back(coarsen);
    }

    // Finest extents: n + 1 divisible by 2^(number of coarsenings of that axis).
    std::array<std::size_t, 3> fine{ 1, 1, 1 };
    for (std::size_t a = 0; a < dimension; ++a)
    {
      std::size_t factor = 1;
      for (const auto & coarsen : schedule)
      {
        factor *= coarsen[a] ? 2 : 1;
      }
      fine[a] = ((size[a] + 1 + factor - 1) / factor) * factor - 1;
    }

    m_Levels.resize(schedule.size() + 1);
    for (std::size_t l = 0; l < m_Levels.size(); ++l)
    {
      Level & level = m_Levels[l];
      if (l == 0)
      {
        level.Extent = fine;
        for (std::size_t a = 0; a < dimension; ++a)
        {
          level.Weight[a] = static_cast<float>(weights[a]);
        }
      }
      else
      {
        const Level & finer = m_Levels[l - 1];
        for (std::size_t a = 0; a < 3; ++a)
        {
          level.Extent[a] = finer.CoarsenNext[a] ? (finer.Extent[a] - 1) / 2 : finer.Extent[a];
          level.Weight[a] = finer.CoarsenNext[a] ? finer.Weight[a] / 4.0f : finer.Weight[a];
        }
      }
      if (l < schedule.size())
      {
        level.CoarsenNext = schedule[l];
      }
      std::array<std::size_t, 3> padded{ 1, 1, 1 };
      for (std::size_t a = 0; a < 3; ++a)
      {
        level.Halo[a] = a < dimension ? 1 : 0;
        padded[a] = level.Extent[a] + 2 * level.Halo[a];
      }
      level.Stride = { 1, dimension > 1 ? padded[0] : 0, dimension > 2 ? padded[0] * padded[1] : 0 };
      level.Count = padded[0] * padded[1] * padded[2];
      level.Diagonal = 2.0f * (level.Weight[0] + level.Weight[1] + level.Weight[2]);
      level.InverseDiagonal = 1.0f / level.Diagonal;
      level.Unknown.assign(level.Count, 0);
    }

    // Finest mask from the unknowns; coarse masks by injection.
    Level & finest = m_Levels[0];
    m_FineOffsets.reserve(boxOffsets.size());
    {
      // boxOffsets are increasing: walk the box once with an index counter (no divisions).
      std::array<std::size_t, 3> index{ 0, 0, 0 };
      std::array<std::size_t, 3> extent{ 1, 1, 1 };
      std::copy(size.begin(), size.end(), extent.begin());
      std::size_t next = 0;
      for (std::size_t offset = 0; next < boxOffsets.size(); ++offset)
      {
        if (boxOffsets[next] == offset)
        {
          const std::size_t fineOffset = finest.Offset(index[0], index[1], index[2]);
          finest.Unknown[fineOffset] = 1;
          m_FineOffsets.push_back(fineOffset);
          ++next;
        }
        for (std::size_t a = 0; a < 3; ++a)
        {
          if (++index[a] < extent[a])
          {
            break;
          }
          index[a] = 0;
        }
      }
    }
    for (std::size_t l = 1; l < m_Levels.size(); ++l)
    {
      const Level & finer = m_Levels[l - 1];
      Level &       level = m_Levels[l];
      ForEachInterior(level, [&](std::size_t i, std::size_t j, std::size_t k, std::size_t p) {
        level.Unknown[p] = finer.Unknown[finer.Offset(FineIndex(finer, 0, i), FineIndex(finer, 1, j), FineIndex(finer, 2, k))];
      });
    }
    for (Level & level : m_Levels)
    {
      level.MaskValue.assign(level.Unknown.begin(), level.Unknown.end());
      ForEachInterior(level, [&](std::size_t i, std::size_t j, std::size_t k, std::size_t p) {
        if (level.Unknown[p] != 0)
        {
          level.Active[0] = std::max(level.Active[0], i + 1);
          level.Active[1] = std::max(level.Active[1], j + 1);
          level.Active[2] = std::max(level.Active[2], k + 1);
        }
      });
    }
  }

  const std::array<std::size_t, 3> &
  GetFinestExtent() const
  {
    return m_Levels[0].Extent;
  }

  /** Sizes (and zeroes) the level arrays, keeping capacity from earlier calls. */
  void
  PrepareWorkspace(Workspace & workspace) const
  {
    for (auto * arrays : { &workspace.X, &workspace.B, &workspace.R })
    {
      arrays->resize(m_Levels.size());
      for (std::size_t l = 0; l < m_Levels.size(); ++l)
      {
        (*arrays)[l].assign(m_Levels[l].Count, 0.0f);
      }
    }
  }

  /** z = V-cycle(r) on the unknowns (compact vectors in the order of boxOffsets). */
  void
  Apply(const std::vector<double> & r, std::vector<double> & z, Workspace & workspace) const
  {
    std::vector<float> & b = workspace.B[0];
    for (std::size_t j = 0; j < m_FineOffsets.size(); ++j)
    {
      b[m_FineOffsets[j]] = static_cast<float>(r[j]);
    }
    Cycle(0, workspace);
    const std::vector<float> & x = workspace.X[0];
    for (std::size_t j = 0; j < m_FineOffsets.size(); ++j)
    {
      z[j] = static_cast<double>(x[m_FineOffsets[j]]);
    }
  }

private:
  static std::size_t
  FineIndex(const Level & finer, std::size_t axis, std::size_t coarseIndex)
  {
    return finer.CoarsenNext[axis] ? 2 * coarseIndex + 1 : coarseIndex;
  }

  template <typename TFunction>
  static void
  ForEachInterior(const Level & level, TFunction && function)
  {
    for (std::size_t k = 0; k < level.Extent[2]; ++k)
    {
      for (std::size_t j = 0; j < level.Extent[1]; ++j)
      {
        const std::size_t base = level.Offset(0, j, k);
        for (std::size_t i = 0; i < level.Extent[0]; ++i)
        {
          function(i, j, k, base + i);
        }
      }
    }
  }

  /** One red (colour 0) or black (colour 1) half-sweep of Gauss-Seidel over-relaxed by
   * kRelaxation (red-black SOR). */
  static void
  Sweep(const Level & level, float * x, const float * b, unsigned int colour)
  {
    const std::size_t      s1 = level.Stride[1];
    const std::size_t      s2 = level.Stride[2];
    const float            w0 = level.Weight[0];
    const float            w1 = level.Weight[1];
    const float            w2 = level.Weight[2];
    const float            inverse = level.InverseDiagonal;
    const float *          mask = level.MaskValue.data();
    for (std::size_t k = 0; k < level.Active[2]; ++k)
    {
      for (std::size_t j = 0; j < level.Active[1]; ++j)
      {
        const std::size_t base = level.Offset(0, j, k);
        for (std::size_t i = (colour + j + k) & 1u; i < level.Active[0]; i += 2)
        {
          const std::size_t p = base + i;
          // Non-unknowns stay zero (mask 0): the homogeneous Dirichlet condition.
          const float gaussSeidel =
            inverse * (b[p] + w0 * (x[p - 1] + x[p + 1]) + w1 * (x[p - s1] + x[p + s1]) + w2 * (x[p - s2] + x[p + s2]));
          x[p] = mask[p] * (x[p] + kRelaxation * (gaussSeidel - x[p]));
        }
      }
    }
  }

  static void
  Residual(const Level & level, const float * x, const float * b, float * r)
  {
    const std::size_t     s1 = level.Stride[1];
    const std::size_t     s2 = level.Stride[2];
    const float           w0 = level.Weight[0];
    const float           w1 = level.Weight[1];
    const float           w2 = level.Weight[2];
    const float           diagonal = level.Diagonal;
    const float *         mask = level.MaskValue.data();
    for (std::size_t k = 0; k < level.Active[2]; ++k)
    {
      for (std::size_t j = 0; j < level.Active[1]; ++j)
      {
        const std::size_t base = level.Offset(0, j, k);
        for (std::size_t i = 0; i < level.Active[0]; ++i)
        {
          const std::size_t p = base + i;
          const float       ax = diagonal * x[p] - w0 * (x[p - 1] + x[p + 1]) - w1 * (x[p - s1] + x[p + s1]) -
                           w2 * (x[p - s2] + x[p + s2]);
          r[p] = mask[p] * (b[p] - ax);
        }
      }
    }
  }

  /** Rows (axes 1 and 2) that contribute to one row of the other grid, with their weights. */
  struct RowCombination
  {
    std::size_t Count{ 0 };
    std::size_t Offset[9];
    float       Weight[9];
  };

  /** Along one of the axes 1, 2: the padded coordinates and weights on the other grid that
   * contribute to padded coordinate `index` of this grid. fineToCoarse: linear interpolation
   * (coarse -> fine); otherwise full weighting (fine -> coarse). */
  static std::size_t
  AxisTerms(bool coarsened, bool fineToCoarse, std::size_t index, std::size_t * coordinates, float * weights)
  {
    if (!coarsened)
    {
      coordinates[0] = index;
      weights[0] = 1.0f;
      return 1;
    }
    if (fineToCoarse)
    {
      // Fine padded p = f + 1; odd interior f = 2I + 1 sits on coarse I (padded I + 1).
      const std::size_t f = index - 1;
      if (f % 2 == 1)
      {
        coordinates[0] = (f - 1) / 2 + 1;
        weights[0] = 1.0f;
        return 1;
      }
      coordinates[0] = f / 2; // coarse f/2 - 1, padded
      coordinates[1] = f / 2 + 1;
      weights[0] = weights[1] = 0.5f;
      return 2;
    }
    // Coarse padded P = I + 1 gathers fine 2I, 2I + 1, 2I + 2 (padded 2I + 1 .. 2I + 3).
    const std::size_t centre = 2 * (index - 1) + 2;
    coordinates[0] = centre - 1;
    coordinates[1] = centre;
    coordinates[2] = centre + 1;
    weights[0] = 0.25f;
    weights[1] = 0.5f;
    weights[2] = 0.25f;
    return 3;
  }

  static RowCombination
  Rows(const Level & finer, const Level & other, bool fineToCoarse, std::size_t j, std::size_t k)
  {
    std::size_t c1[3];
    std::size_t c2[3];
    float       w1[3];
    float       w2[3];
    // j, k: interior row coordinates of the grid being written (both grids share the halo).
    const std::size_t n1 = AxisTerms(finer.CoarsenNext[1], fineToCoarse, j + finer.Halo[1], c1, w1);
    const std::size_t n2 = AxisTerms(finer.CoarsenNext[2], fineToCoarse, k + finer.Halo[2], c2, w2);
    RowCombination rows;
    for (std::size_t b = 0; b < n2; ++b)
    {
      for (std::size_t a = 0; a < n1; ++a)
      {
        rows.Offset[rows.Count] = c1[a] * other.Stride[1] + c2[b] * other.Stride[2];
        rows.Weight[rows.Count] = w1[a] * w2[b];
        ++rows.Count;
      }
    }
    return rows;
  }

  /** line = sum over the combination's rows of weight · row of `values` (the axes 1, 2 part
   * shared by restriction and prolongation; axis 0 is handled by the caller). */
  static void
  CombineRows(const RowCombination & rows, const float * values, std::vector<float> & line)
  {
    std::fill(line.begin(), line.end(), 0.0f);
    for (std::size_t c = 0; c < rows.Count; ++c)
    {
      const float * source = values + rows.Offset[c];
      const float   weight = rows.Weight[c];
      for (std::size_t p = 0; p < line.size(); ++p)
      {
        line[p] += weight * source[p];
      }
    }
  }

  /** Full weighting (1/4, 1/2, 1/4 along each coarsened axis) of the fine residual. */
  static void
  Restrict(const Level & finer, const float * r, const Level & coarser, float * b)
  {
    const std::size_t  fineRow = finer.Extent[0] + 2 * finer.Halo[0];
    std::vector<float> line(fineRow);
    for (std::size_t k = 0; k < coarser.Active[2]; ++k)
    {
      for (std::size_t j = 0; j < coarser.Active[1]; ++j)
      {
        CombineRows(Rows(finer, finer, false, j, k), r, line);
        const std::size_t base = coarser.Offset(0, j, k);
        const float *     mask = coarser.MaskValue.data() + base;
        float *           out = b + base;
        if (finer.CoarsenNext[0])
        {
          for (std::size_t i = 0; i < coarser.Active[0]; ++i)
          {
            out[i] = mask[i] * (0.25f * line[2 * i + 1] + 0.5f * line[2 * i + 2] + 0.25f * line[2 * i + 3]);
          }
        }
        else
        {
          for (std::size_t i = 0; i < coarser.Active[0]; ++i)
          {
            out[i] = mask[i] * line[i + 1];
          }
        }
      }
    }
  }

  /** x_fine += linear interpolation of x_coarse (zero in the coarse halo), on fine unknowns. */
  static void
  ProlongAdd(const Level & coarser, const float * xc, const Level & finer, float * x)
  {
    const std::size_t  coarseRow = coarser.Extent[0] + 2 * coarser.Halo[0];
    std::vector<float> line(coarseRow);
    for (std::size_t k = 0; k < finer.Active[2]; ++k)
    {
      for (std::size_t j = 0; j < finer.Active[1]; ++j)
      {
        CombineRows(Rows(finer, coarser, true, j, k), xc, line);
        const std::size_t base = finer.Offset(0, j, k);
        const float *     mask = finer.MaskValue.data() + base;
        float *           out = x + base;
        if (finer.CoarsenNext[0])
        {
          // Fine 2I + 1 sits on coarse I (padded I + 1); fine 2I averages padded I and I + 1.
          for (std::size_t i = 0; i < finer.Active[0]; ++i)
          {
            const float value = (i % 2 == 1) ? line[(i - 1) / 2 + 1] : 0.5f * (line[i / 2] + line[i / 2 + 1]);
            out[i] += mask[i] * value;
          }
        }
        else
        {
          for (std::size_t i = 0; i < finer.Active[0]; ++i)
          {
            out[i] += mask[i] * line[i + 1];
          }
        }
      }
    }
  }

  void
  Cycle(std::size_t l, Workspace & workspace) const
  {
    const Level & level = m_Levels[l];
    float *       x = workspace.X[l].data();
    const float * b = workspace.B[l].data();
    std::fill(workspace.X[l].begin(), workspace.X[l].end(), 0.0f);
    if (l + 1 == m_Levels.size())
    {
      // Coarsest grid (a few voxels per axis): symmetric Gauss-Seidel until well converged.
      for (int sweep = 0; sweep < 20; ++sweep)
      {
        Sweep(level, x, b, 0);
        Sweep(level, x, b, 1);
      }
      for (int sweep = 0; sweep < 20; ++sweep)
      {
        Sweep(level, x, b, 1);
        Sweep(level, x, b, 0);
      }
      return;
    }
    // Pre-smoothing red then black, post-smoothing black then red: a symmetric cycle, as the
    // conjugate gradient requires of its preconditioner.
    for (int step = 0; step < kSmoothingSteps; ++step)
    {
      Sweep(level, x, b, 0);
      Sweep(level, x, b, 1);
    }
    Residual(level, x, b, workspace.R[l].data());
    Restrict(level, workspace.R[l].data(), m_Levels[l + 1], workspace.B[l + 1].data());
    Cycle(l + 1, workspace);
    ProlongAdd(m_Levels[l + 1], workspace.X[l + 1].data(), level, x);
    for (int step = 0; step < kSmoothingSteps; ++step)
    {
      Sweep(level, x, b, 1);
      Sweep(level, x, b, 0);
    }
  }

  /** Red-black sweeps before and after the coarse-grid correction: V(2,2) needs 5-6
   * conjugate-gradient iterations where V(1,1) needs 7-8, and is 5-12 % faster overall
   * (NSAPoissonBlendBenchmark, elliptic masks 64^2-256^2, 32^3, 64^3; with omega 1.3 V(2,2)
   * needs 5 and V(1,1) 7-8, V(2,2) 15-20 % faster). */
  static constexpr int kSmoothingSteps = 2;

  /** Over-relaxation of the red-black smoother. Red-black Gauss-Seidel smooths better with
   * omega a little above 1 (Yavneh, SIAM J. Sci. Comput. 17(1), 1996). Measured here:
   * relative residual after 6 preconditioned CG iterations, white-noise right-hand side,
   * elliptic/ellipsoidal masks (2D 64, 128, 256; 3D 32, 64):
   *   omega 1.0:  2.1e-7, 7.3e-7, 1.3e-6, 1.9e-8, 8.6e-8
   *   omega 1.15: 7.6e-8, 3.4e-7, 6.0e-7, 6.6e-9, 2.5e-8
   *   omega 1.3:  5.1e-8, 1.6e-7, 3.7e-7, 7.1e-9, 2.0e-8
   *   omega 1.4:  6.8e-8, 1.8e-7, 3.1e-7, 1.8e-8, 2.8e-8
   * 1.3 is best or close to it everywhere; the 128^2 and 256^2 blends need 5 iterations
   * instead of 6. Pre- and post-smoothing run the colours in opposite orders with the same
   * omega, so the cycle stays symmetric (0 < omega < 2 keeps it positive definite). */
  static constexpr float kRelaxation = 1.3f;

  std::vector<Level>       m_Levels;
  std::vector<std::size_t> m_FineOffsets;
};

} // namespace detail
} // namespace nsa

#endif
