#ifndef nsaPoissonSolver_h
#define nsaPoissonSolver_h

#include <cstddef>
#include <memory>
#include <vector>

namespace nsa
{

/** \class DiscreteSineTransform
 * \brief In-place, unnormalised multi-dimensional DST-I (FFTW's RODFT00) of a float grid.
 *
 * The grid is stored in ITK order (x fastest). Along an axis of n points the transform is
 * \f$ y_k = 2 \sum_{j=0}^{n-1} x_j \sin(\pi (j+1)(k+1) / (n+1)) \f$; it diagonalises the
 * second-difference operator with zero (Dirichlet) values just outside the grid, and applying
 * it twice multiplies by GetNormalizationFactor() = \f$ \prod_i 2 (n_i + 1) \f$.
 *
 * FFTW computes a DST-I of n points through a real FFT of length 2(n + 1): n + 1 with a large
 * prime factor is several times slower than a nearby n whose n + 1 has only factors 2, 3, 5
 * and 7 (IsFastLength, NextFastLength).
 *
 * Plans are single-threaded, created with FFTW_ESTIMATE once per grid size under ITK's FFTW
 * planner lock (itk::FFTWGlobalConfiguration::GetLockMutex, so that ITK's own FFT filters in
 * other threads are not disturbed) and cached for the life of the process. Transform() may be
 * called from many threads at once on different buffers. Buffers must come from
 * AllocateBuffer() (FFTW's SIMD alignment).
 */
class DiscreteSineTransform
{
public:
  using SizeType = std::vector<std::size_t>;

  /** Releases a buffer from AllocateBuffer (fftwf_free). */
  struct BufferDeleter
  {
    void
    operator()(float * buffer) const noexcept;
  };
  using BufferType = std::unique_ptr<float[], BufferDeleter>;

  /** Looks up (or creates) the plan of a grid of size[0] x size[1] x ... points, x fastest,
   * transforming the leading transformedAxes axes (all by default; fewer = a batch of
   * lower-dimensional transforms over the remaining axes). Throws nsa::ParameterError for an
   * empty size, a zero extent or transformedAxes outside [1, size.size()]. */
  explicit DiscreteSineTransform(SizeType size, std::size_t transformedAxes = 0);

  /** Transforms data (GetNumberOfElements() floats from AllocateBuffer) in place. */
  void
  Transform(float * data) const;

  const SizeType &
  GetSize() const
  {
    return m_Size;
  }

  std::size_t
  GetNumberOfElements() const
  {
    return m_NumberOfElements;
  }

  /** \f$ \prod_i 2 (n_i + 1) \f$ over the transformed axes: Transform applied twice
   * multiplies by this. */
  double
  GetNormalizationFactor() const;

  /** Aligned, uninitialised buffer of count floats. */
  static BufferType
  AllocateBuffer(std::size_t count);

  /** True when n + 1 has no prime factor larger than 7. */
  static bool
  IsFastLength(std::size_t n);

  /** Smallest m >= n with IsFastLength(m). */
  static std::size_t
  NextFastLength(std::size_t n);

private:
  SizeType    m_Size;
  std::size_t m_TransformedAxes{ 0 };
  std::size_t m_NumberOfElements{ 0 };
  void *      m_Plan{ nullptr }; // fftwf_plan, owned by the process-wide cache
};

/** \class PoissonSolver
 * \brief Solves the discrete Poisson equation on the unknown voxels of a box.
 *
 * For every unknown voxel p the solver makes
 * \f[ \sum_i w_i \left( 2 x_p - x_{p - e_i} - x_{p + e_i} \right) = b_p , \f]
 * hold, where \f$ w_i = 1 / h_i^2 \f$ are the axis weights and \f$ x_q = 0 \f$ at every
 * neighbour q that is not an unknown (the caller folds Dirichlet values into b). The matrix is
 * symmetric positive definite.
 *
 * Box solves ("DST solve" below) use the fast Poisson solver FACR(0): a DST-I along all axes
 * but the last, one tridiagonal (Thomas) solve per mode along the last axis, the inverse DST.
 * When the unknowns fill the box, one box solve is exact (up to float rounding, which a
 * refinement step removes). Otherwise the solver runs a conjugate gradient in double
 * precision with a float preconditioner: a geometric multigrid cycle (default) or the DST
 * solve of the whole box (restricted to the unknowns it is the exact inverse of the box
 * problem, so only the mask's outline separates the two problems), optionally on a box
 * enlarged (centred) to fast DST lengths; the preconditioner grid may extend beyond the
 * image. The conjugate-gradient update uses the Polak-Ribiere form, which tolerates the
 * float rounding of the preconditioner.
 *
 * Deterministic and single-threaded: the same inputs give bit-identical results whatever
 * thread calls Solve, and several solvers may run in parallel.
 */
class PoissonSolver
{
public:
  using SizeType = std::vector<std::size_t>;

  /** How the conjugate gradient is preconditioned when the unknowns do not fill the box. */
  enum class PreconditionerEnum
  {
    /** Geometric multigrid V(2,2)-cycle on the box (float): red-black Gauss-Seidel on the
     * masked 5/7-point stencil, full weighting and linear interpolation, coarse masks by
     * injection, and semi-coarsening of axes that are coupled much more weakly than the
     * others (anisotropic spacing). Cost O(N) per iteration, iterations almost independent
     * of the size. */
    Multigrid,
    /** One DST solve of the (optionally enlarged) box. Cost O(N log N) per iteration; the
     * iteration count grows slowly with the size of the mask's outline. */
    DiscreteSineTransform
  };

  struct Options
  {
    /** Preconditioner for masks that do not fill their box (a filled box is one direct DST
     * solve whatever is chosen here). */
    PreconditionerEnum Preconditioner{ PreconditionerEnum::Multigrid };
    /** Stop when ||b - A x||_2 <= RelativeTolerance * ||b||_2. */
    double RelativeTolerance{ 1e-6 };
    /** Give up (Report::Converged false) after this many iterations. */
    unsigned int MaximumNumberOfIterations{ 1000 };
    /** DST preconditioner: enlarge its grid so that n_i + 1 has only factors 2, 3, 5, 7 on
     * the transformed axes (all but the last, which tridiagonal solves handle at any length). */
    bool EnlargeToFastSize{ true };
  };

  struct Report
  {
    unsigned int Iterations{ 0 };
    double       RelativeResidual{ 0.0 };
    bool         Converged{ false };
  };

  /** size: box extent per axis (x fastest); axisWeights: w_i > 0 per axis; unknowns: one byte
   * per box voxel, non-zero for an unknown. Throws nsa::ParameterError on inconsistent
   * arguments or when there is no unknown. */
  PoissonSolver(SizeType size, std::vector<double> axisWeights, std::vector<unsigned char> unknowns, Options options);
  ~PoissonSolver();
  PoissonSolver(const PoissonSolver &) = delete;
  PoissonSolver &
  operator=(const PoissonSolver &) = delete;

  /** b and x are arrays over the box (x fastest); only unknown entries are read (b, x) and
   * written (x). On entry x holds the initial guess, on return the solution. */
  Report
  Solve(const double * b, double * x) const;

  /** Size of the grid the preconditioner runs on (the DST grid, or multigrid's finest level). */
  const SizeType &
  GetWorkingSize() const;

  std::size_t
  GetNumberOfUnknowns() const;

private:
  struct Internals;
  std::unique_ptr<Internals> m_Internals;
};

} // namespace nsa

#endif
