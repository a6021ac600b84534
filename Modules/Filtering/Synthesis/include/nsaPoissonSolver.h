#ifndef nsaPoissonSolver_h
#define nsaPoissonSolver_h

#include "nsaDiscreteSineTransform.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace nsa
{

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
 * \ingroup NSASynthesis
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
