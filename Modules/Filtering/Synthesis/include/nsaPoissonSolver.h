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
 * The transform runs axis by axis, each axis by one of two algorithms (AlgorithmEnum::Automatic
 * chooses per axis length):
 * - FFT: pairs of lines are packed into one complex line (first line real part, second
 *   imaginary part), extended to odd symmetry of length 2(n + 1) and transformed by one FFTW
 *   complex DFT; the two DSTs are the real and imaginary parts of the result. FFTW's complex
 *   DFT has SIMD code (SSE2/AVX), its real-to-real RODFT00 does not, and the packing halves
 *   the work: about twice as fast as RODFT00 (Documentation/PoissonBlending.md).
 * - Dense: multiplication by the n x n sine matrix (a small register-blocked matrix product,
 *   compiled for AVX2 and for baseline x86-64, chosen at load time). A DST-I of n points is
 *   an FFT of length 2(n + 1): when n + 1 has a large prime factor (n = 96: 97; n = 128:
 *   3 x 43) the FFT loses its speed and the O(n^2) product is faster up to a few hundred
 *   points. UsesDenseProduct(n) states the rule.
 * AlgorithmEnum::RealToReal uses FFTW's own RODFT00 (the reference in the tests and the
 * "DST floor" of the benchmark). The automatic algorithms agree with it to float rounding.
 *
 * FFTW plans are single-threaded, created with FFTW_ESTIMATE (deterministic: the same plan,
 * hence the same rounding, in every process on the same machine) once per length under ITK's
 * FFTW planner lock (itk::FFTWGlobalConfiguration::GetLockMutex, so that ITK's own FFT filters
 * in other threads are not disturbed) and cached for the life of the process, as are the sine
 * matrices. Transform() may be called from many threads at once on different buffers (its
 * scratch memory is per thread). Buffers must come from AllocateBuffer() (FFTW's alignment).
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

  /** How each axis is transformed; see the class description. */
  enum class AlgorithmEnum
  {
    Automatic,        ///< per axis: DenseProduct where UsesDenseProduct(n), else PackedComplexFFT
    PackedComplexFFT, ///< every axis by the packed complex FFT
    DenseProduct,     ///< every axis by the sine matrix product
    RealToReal        ///< FFTW's RODFT00 (reference)
  };

  DiscreteSineTransform(SizeType size, std::size_t transformedAxes, AlgorithmEnum algorithm);

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

  /** True when AlgorithmEnum::Automatic transforms an axis of n points by the dense sine
   * matrix product rather than the packed complex FFT: n <= 320 unless the FFT length
   * 2(n + 1) = 2^a m (m odd) has m without prime factors above 7 and 2^a >= 64, or 2^a >= 16
   * and n >= 112 (measured crossover, Documentation/PoissonBlending.md). */
  static bool
  UsesDenseProduct(std::size_t n);

private:
  SizeType    m_Size;
  std::size_t m_TransformedAxes{ 0 };
  std::size_t   m_NumberOfElements{ 0 };
  AlgorithmEnum m_Algorithm{ AlgorithmEnum::Automatic };
  void *        m_Plan{ nullptr }; // RealToReal: fftwf_plan, owned by the process-wide cache
  /** Automatic: the engine of every transformed axis (owned by the process-wide cache). */
  std::vector<const void *> m_Engines;
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
    /** Geometric multigrid V(2,2)-cycle on the box (float): red-black SOR (omega 1.3) on the
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
