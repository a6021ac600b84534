#ifndef nsaDiscreteSineTransform_h
#define nsaDiscreteSineTransform_h

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
 * it twice multiplies by GetNormalisationFactor() = \f$ \prod_i 2 (n_i + 1) \f$.
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
 * \ingroup NSASynthesis
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
  GetNormalisationFactor() const;

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

} // namespace nsa

#endif
