#include "nsaDiscreteSineTransform.h"

#include "nsaGridText.h"

#include "nsaError.h"

#include "itkFFTWGlobalConfiguration.h"

#include <fftw3.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <utility>


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

using detail::SizeToString;

/** Complex lines packed per FFTW execution: 16 pairs = 32 real lines, so a chunk of the
 * longest awkward length (2 x 257 complex points) stays within 66 KB (level-2 cache). */
constexpr std::size_t kPairsPerChunk = 16;

/** The transform of one axis length (AlgorithmEnum::Automatic). */
struct AxisEngine
{
  std::size_t Length{ 0 };
  bool        Dense{ false };
  /** Dense, with S_jk = 2 sin(pi (j+1)(k+1) / (n+1)) and h = ceil(n/2): since
   * S_(n-1-j)k = (-1)^k S_jk, the even outputs need only u_j = x_j + x_(n-1-j) and the odd
   * ones v_j = x_j - x_(n-1-j), j < h (half the products, half-length sums). Four row-major
   * copies of the halves: EvenColumns (h x ceil(n/2): S_j,2m) and OddColumns (h x floor(n/2):
   * S_j,2m+1), rows padded with zeros to a multiple of 16 floats, for lines stored as rows;
   * EvenRows and OddRows (their transposes, unpadded) for lines stored as columns. */
  std::vector<float> EvenColumns;
  std::vector<float> OddColumns;
  std::vector<float> EvenRows;
  std::vector<float> OddRows;
  /** FFT: kPairsPerChunk complex DFTs of length 2(n+1), element stride kPairsPerChunk,
   * consecutive transforms adjacent (pair p, point t at t * kPairsPerChunk + p). */
  fftwf_plan Plan{ nullptr };
};

/** Engines by axis length, never destroyed (see PlanCache). */
struct EngineCache
{
  std::mutex                                        Mutex;
  std::map<std::pair<std::size_t, bool>, std::unique_ptr<AxisEngine>> Engines;
};

EngineCache &
GetEngineCache()
{
  static auto * cache = new EngineCache; // intentionally leaked, see PlanCache
  return *cache;
}

/** Per-thread scratch memory of Transform(), grown on demand and reused. */
struct TransformScratch
{
  float *     Memory{ nullptr };
  std::size_t Capacity{ 0 };

  float *
  Get(std::size_t count)
  {
    if (count > Capacity)
    {
      fftwf_free(Memory);
      Memory = static_cast<float *>(fftwf_malloc(count * sizeof(float)));
      if (Memory == nullptr)
      {
        Capacity = 0;
        throw Error("DiscreteSineTransform: cannot allocate " + std::to_string(count) + " floats of scratch memory");
      }
      Capacity = count;
    }
    return Memory;
  }

  ~TransformScratch() { fftwf_free(Memory); }
};

/** c (rows x columns, row stride ldc) = a (rows x depth, stride lda) * b (depth x columns,
 * stride ldb), columns a multiple of 16 (callers pad). Blocks of 4 rows x 16 columns (then
 * single rows) are accumulated in 8-float vector registers over the depth in a fixed order;
 * no FMA contraction (ISO C++ mode), so every clone gives the same bits. Compiled for AVX2
 * and for baseline x86-64 (the loader picks one). */
using Float8 = float __attribute__((vector_size(32)));

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target_clones("avx2", "default")))
#endif
void
MatrixProduct(const float * __restrict a,
              std::size_t              lda,
              const float * __restrict b,
              std::size_t              ldb,
              float * __restrict c,
              std::size_t              ldc,
              std::size_t              rows,
              std::size_t              depth,
              std::size_t              columns)
{
  constexpr std::size_t R = 4;
  constexpr std::size_t C = 16;
  std::size_t           r0 = 0;
  for (; r0 + R <= rows; r0 += R)
  {
    for (std::size_t c0 = 0; c0 < columns; c0 += C)
    {
      Float8        sum[R][2] = {};
      const float * a0 = a + r0 * lda;
      for (std::size_t k = 0; k < depth; ++k)
      {
        Float8 b0;
        Float8 b1;
        std::memcpy(&b0, b + k * ldb + c0, sizeof(b0));
        std::memcpy(&b1, b + k * ldb + c0 + 8, sizeof(b1));
        for (std::size_t r = 0; r < R; ++r)
        {
          const float ar = a0[r * lda + k];
          sum[r][0] += ar * b0;
          sum[r][1] += ar * b1;
        }
      }
      for (std::size_t r = 0; r < R; ++r)
      {
        std::memcpy(c + (r0 + r) * ldc + c0, &sum[r][0], sizeof(Float8));
        std::memcpy(c + (r0 + r) * ldc + c0 + 8, &sum[r][1], sizeof(Float8));
      }
    }
  }
  for (; r0 < rows; ++r0)
  {
    for (std::size_t c0 = 0; c0 < columns; c0 += C)
    {
      Float8 sum[2] = {};
      for (std::size_t k = 0; k < depth; ++k)
      {
        Float8 b0;
        Float8 b1;
        std::memcpy(&b0, b + k * ldb + c0, sizeof(b0));
        std::memcpy(&b1, b + k * ldb + c0 + 8, sizeof(b1));
        const float ar = a[r0 * lda + k];
        sum[0] += ar * b0;
        sum[1] += ar * b1;
      }
      std::memcpy(c + r0 * ldc + c0, &sum[0], sizeof(Float8));
      std::memcpy(c + r0 * ldc + c0 + 8, &sum[1], sizeof(Float8));
    }
  }
}

constexpr std::size_t
RoundUpTo16(std::size_t n)
{
  return (n + 15) / 16 * 16;
}

const AxisEngine &
GetAxisEngine(std::size_t n, bool dense)
{
  EngineCache &               cache = GetEngineCache();
  std::lock_guard<std::mutex> lock(cache.Mutex);
  auto                        found = cache.Engines.find({ n, dense });
  if (found != cache.Engines.end())
  {
    return *found->second;
  }
  auto engine = std::make_unique<AxisEngine>();
  engine->Length = n;
  engine->Dense = dense;
  if (engine->Dense)
  {
    // Exact integer reduction of (j+1)(k+1) modulo 2(n+1) keeps the argument small, so every
    // entry is the correctly rounded sine of its angle.
    const double      pi = 3.14159265358979323846;
    const auto        period = static_cast<std::uint64_t>(2 * (n + 1));
    const auto        sine = [&](std::size_t j, std::size_t k) {
      const std::uint64_t turn = (static_cast<std::uint64_t>(j + 1) * (k + 1)) % period;
      return static_cast<float>(2.0 * std::sin(pi * static_cast<double>(turn) / static_cast<double>(n + 1)));
    };
    const std::size_t half = (n + 1) / 2;
    const std::size_t even = (n + 1) / 2;
    const std::size_t odd = n / 2;
    engine->EvenColumns.assign(half * RoundUpTo16(even), 0.0f);
    engine->OddColumns.assign(half * RoundUpTo16(odd), 0.0f);
    engine->EvenRows.assign(even * half, 0.0f);
    engine->OddRows.assign(odd * half, 0.0f);
    for (std::size_t j = 0; j < half; ++j)
    {
      for (std::size_t m = 0; m < even; ++m)
      {
        engine->EvenColumns[j * RoundUpTo16(even) + m] = engine->EvenRows[m * half + j] = sine(j, 2 * m);
      }
      for (std::size_t m = 0; m < odd; ++m)
      {
        engine->OddColumns[j * RoundUpTo16(odd) + m] = engine->OddRows[m * half + j] = sine(j, 2 * m + 1);
      }
    }
  }
  else
  {
    const int     length = static_cast<int>(2 * (n + 1));
    const int     pairs = static_cast<int>(kPairsPerChunk);
    auto *        scratch = static_cast<fftwf_complex *>(fftwf_malloc(sizeof(fftwf_complex) * 2 * (n + 1) * kPairsPerChunk));
    if (scratch == nullptr)
    {
      throw Error("DiscreteSineTransform: cannot allocate the planning buffer of length " + std::to_string(n));
    }
    {
      std::lock_guard<std::mutex> plannerLock(itk::FFTWGlobalConfiguration::GetLockMutex());
      engine->Plan = fftwf_plan_many_dft(
        1, &length, pairs, scratch, nullptr, pairs, 1, scratch, nullptr, pairs, 1, FFTW_FORWARD, FFTW_ESTIMATE);
    }
    fftwf_free(scratch);
    if (engine->Plan == nullptr)
    {
      throw Error("DiscreteSineTransform: FFTW could not plan a complex DFT of length " + std::to_string(length));
    }
  }
  return *cache.Engines.emplace(std::make_pair(n, dense), std::move(engine)).first->second;
}

/** Dense DST-I of lines stored as rows (inner 1), 64 lines at a time: U, V (lines x half),
 * then Y_even = U EvenColumns and Y_odd = V OddColumns, interleaved back. */
void
DenseTransformRows(const AxisEngine & engine, float * data, std::size_t outer, TransformScratch & scratch)
{
  const std::size_t n = engine.Length;
  const std::size_t half = (n + 1) / 2;
  const std::size_t even = (n + 1) / 2;
  const std::size_t odd = n / 2;
  constexpr std::size_t kLines = 64;
  const std::size_t     evenWidth = RoundUpTo16(even);
  const std::size_t     oddWidth = RoundUpTo16(odd);
  float *               u = scratch.Get(kLines * (2 * half + evenWidth + oddWidth));
  float *               v = u + kLines * half;
  float *               evenBlock = v + kLines * half;
  float *               oddBlock = evenBlock + kLines * evenWidth;
  for (std::size_t l0 = 0; l0 < outer; l0 += kLines)
  {
    const std::size_t lines = std::min(kLines, outer - l0);
    for (std::size_t l = 0; l < lines; ++l)
    {
      const float * x = data + (l0 + l) * n;
      for (std::size_t j = 0; j < odd; ++j)
      {
        u[l * half + j] = x[j] + x[n - 1 - j];
        v[l * half + j] = x[j] - x[n - 1 - j];
      }
      if (half != odd)
      {
        u[l * half + odd] = x[odd]; // the middle point of an odd length
        v[l * half + odd] = 0.0f;
      }
    }
    MatrixProduct(u, half, engine.EvenColumns.data(), evenWidth, evenBlock, evenWidth, lines, half, evenWidth);
    if (odd > 0)
    {
      MatrixProduct(v, half, engine.OddColumns.data(), oddWidth, oddBlock, oddWidth, lines, half, oddWidth);
    }
    for (std::size_t l = 0; l < lines; ++l)
    {
      float * x = data + (l0 + l) * n;
      for (std::size_t m = 0; m < even; ++m)
      {
        x[2 * m] = evenBlock[l * evenWidth + m];
      }
      for (std::size_t m = 0; m < odd; ++m)
      {
        x[2 * m + 1] = oddBlock[l * oddWidth + m];
      }
    }
  }
}

/** Dense DST-I of lines stored as columns of n x inner slabs: rows U, V (half x width, padded
 * to a multiple of 16 floats), then Y_even = EvenRows U and Y_odd = OddRows V, rows
 * interleaved back. */
void
DenseTransformColumns(const AxisEngine & engine,
                      float *            data,
                      std::size_t        inner,
                      std::size_t        outer,
                      TransformScratch & scratch)
{
  const std::size_t n = engine.Length;
  const std::size_t half = (n + 1) / 2;
  const std::size_t even = (n + 1) / 2;
  const std::size_t odd = n / 2;
  const std::size_t width = RoundUpTo16(inner);
  float *           u = scratch.Get(width * (2 * half + even + odd));
  float *           v = u + half * width;
  float *           evenBlock = v + half * width;
  float *           oddBlock = evenBlock + even * width;
  std::fill(u, u + 2 * half * width, 0.0f);
  for (std::size_t o = 0; o < outer; ++o)
  {
    float * x = data + o * n * inner;
    for (std::size_t j = 0; j < odd; ++j)
    {
      const float * low = x + j * inner;
      const float * high = x + (n - 1 - j) * inner;
      for (std::size_t i = 0; i < inner; ++i)
      {
        u[j * width + i] = low[i] + high[i];
        v[j * width + i] = low[i] - high[i];
      }
    }
    if (half != odd)
    {
      std::copy(x + odd * inner, x + (odd + 1) * inner, u + odd * width); // middle row; v's stays 0
    }
    MatrixProduct(engine.EvenRows.data(), half, u, width, evenBlock, width, even, half, width);
    if (odd > 0)
    {
      MatrixProduct(engine.OddRows.data(), half, v, width, oddBlock, width, odd, half, width);
    }
    for (std::size_t m = 0; m < even; ++m)
    {
      std::copy(evenBlock + m * width, evenBlock + m * width + inner, x + 2 * m * inner);
    }
    for (std::size_t m = 0; m < odd; ++m)
    {
      std::copy(oddBlock + m * width, oddBlock + m * width + inner, x + (2 * m + 1) * inner);
    }
  }
}

/** Runs the packed DFT of one chunk in place (layout: see FftTransformRows). Points 0 and
 * n + 1 of the odd extension are zero; the previous in-place DFT left its outputs there. */
void
ExecutePackedChunk(const AxisEngine & engine, fftwf_complex * z)
{
  constexpr std::size_t P = kPairsPerChunk;
  const std::size_t     n = engine.Length;
  for (std::size_t p = 0; p < P; ++p)
  {
    z[p][0] = z[p][1] = 0.0f;
    z[(n + 1) * P + p][0] = z[(n + 1) * P + p][1] = 0.0f;
  }
  fftwf_execute_dft(engine.Plan, z, z);
}

/** DST-I by a packed complex FFT of lines stored as rows (inner 1). Pair p of a chunk: line
 * 2p in the real part, line 2p+1 in the imaginary part, extended to odd symmetry
 * z_t = -z_{2(n+1)-t} with z_0 = z_{n+1} = 0. The DFT of an odd real sequence is -2i times
 * its DST-I, so RODFT00(real line) = -Im Z_k and RODFT00(imaginary line) = Re Z_k, k = 1..n. */
void
FftTransformRows(const AxisEngine & engine, float * data, std::size_t outer, TransformScratch & scratch)
{
  constexpr std::size_t P = kPairsPerChunk;
  const std::size_t     n = engine.Length;
  const std::size_t     period = 2 * (n + 1);
  auto *                z = reinterpret_cast<fftwf_complex *>(scratch.Get(2 * period * P));
  for (std::size_t l0 = 0; l0 < outer; l0 += 2 * P)
  {
    const std::size_t lines = std::min(2 * P, outer - l0);
    for (std::size_t p = 0; p < P; ++p)
    {
      for (std::size_t part = 0; part < 2; ++part)
      {
        const std::size_t line = 2 * p + part;
        if (line < lines)
        {
          const float * x = data + (l0 + line) * n;
          for (std::size_t j = 0; j < n; ++j)
          {
            z[(j + 1) * P + p][part] = x[j];
            z[(period - 1 - j) * P + p][part] = -x[j];
          }
        }
        else
        {
          for (std::size_t t = 1; t < period; ++t)
          {
            z[t * P + p][part] = 0.0f;
          }
        }
      }
    }
    ExecutePackedChunk(engine, z);
    for (std::size_t line = 0; line < lines; ++line)
    {
      const std::size_t p = line / 2;
      float *           x = data + (l0 + line) * n;
      if (line % 2 == 0)
      {
        for (std::size_t k = 0; k < n; ++k)
        {
          x[k] = -z[(k + 1) * P + p][1];
        }
      }
      else
      {
        for (std::size_t k = 0; k < n; ++k)
        {
          x[k] = z[(k + 1) * P + p][0];
        }
      }
    }
  }
}

/** DST-I by a packed complex FFT (see FftTransformRows) of lines stored as columns of
 * n x inner slabs. */
void
FftTransformColumns(const AxisEngine & engine,
                    float *            data,
                    std::size_t        inner,
                    std::size_t        outer,
                    TransformScratch & scratch)
{
  constexpr std::size_t P = kPairsPerChunk;
  const std::size_t     n = engine.Length;
  const std::size_t     period = 2 * (n + 1);
  auto *                z = reinterpret_cast<fftwf_complex *>(scratch.Get(2 * period * P));
  // Strided lines: 2P consecutive columns of a slab; row j of the chunk is contiguous in
  // memory and is exactly the interleaved complex row of the packed layout.
  float * packed = reinterpret_cast<float *>(z);
  for (std::size_t o = 0; o < outer; ++o)
  {
    float * slab = data + o * n * inner;
    for (std::size_t i0 = 0; i0 < inner; i0 += 2 * P)
    {
      const std::size_t width = std::min(2 * P, inner - i0);
      for (std::size_t j = 0; j < n; ++j)
      {
        const float * row = slab + j * inner + i0;
        float *       forward = packed + 2 * (j + 1) * P;
        float *       backward = packed + 2 * (period - 1 - j) * P;
        for (std::size_t q = 0; q < width; ++q)
        {
          forward[q] = row[q];
          backward[q] = -row[q];
        }
        for (std::size_t q = width; q < 2 * P; ++q)
        {
          forward[q] = 0.0f;
          backward[q] = 0.0f;
        }
      }
      ExecutePackedChunk(engine, z);
      for (std::size_t k = 0; k < n; ++k)
      {
        float *       row = slab + k * inner + i0;
        const float * result = packed + 2 * (k + 1) * P;
        for (std::size_t q = 0; q < width; q += 2)
        {
          row[q] = -result[q + 1];
          if (q + 1 < width)
          {
            row[q + 1] = result[q];
          }
        }
      }
    }
  }
}

/** DST-I along one axis of n points: lines of the grid [outer][n][inner] (inner fastest). */
void
TransformAxis(const AxisEngine & engine, float * data, std::size_t inner, std::size_t outer, TransformScratch & scratch)
{
  if (engine.Dense)
  {
    if (inner == 1)
    {
      DenseTransformRows(engine, data, outer, scratch);
    }
    else
    {
      DenseTransformColumns(engine, data, inner, outer, scratch);
    }
  }
  else if (inner == 1)
  {
    FftTransformRows(engine, data, outer, scratch);
  }
  else
  {
    FftTransformColumns(engine, data, inner, outer, scratch);
  }
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

DiscreteSineTransform::DiscreteSineTransform(SizeType size, std::size_t transformedAxes)
  : DiscreteSineTransform(std::move(size), transformedAxes, AlgorithmEnum::Automatic)
{}

DiscreteSineTransform::DiscreteSineTransform(SizeType size, std::size_t transformedAxes, AlgorithmEnum algorithm)
  : m_Size(std::move(size))
  , m_TransformedAxes(transformedAxes == 0 ? m_Size.size() : transformedAxes)
  , m_Algorithm(algorithm)
{
  if (m_Size.empty())
  {
    throw ParameterError("DiscreteSineTransform: the grid needs at least one axis");
  }
  if (m_TransformedAxes > m_Size.size())
  {
    throw ParameterError("DiscreteSineTransform: cannot transform " + std::to_string(m_TransformedAxes) +
                         " axes of a " + std::to_string(m_Size.size()) + "-dimensional grid");
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

  if (m_Algorithm != AlgorithmEnum::RealToReal)
  {
    for (std::size_t axis = 0; axis < m_TransformedAxes; ++axis)
    {
      const std::size_t n = m_Size[axis];
      const bool        dense = m_Algorithm == AlgorithmEnum::DenseProduct ||
                         (m_Algorithm == AlgorithmEnum::Automatic && UsesDenseProduct(n));
      m_Engines.push_back(&GetAxisEngine(n, dense));
    }
    return;
  }

  PlanCache &                 cache = GetPlanCache();
  std::lock_guard<std::mutex> cacheLock(cache.Mutex);
  std::vector<std::size_t>    key = m_Size;
  key.push_back(m_TransformedAxes);
  auto found = cache.Plans.find(key);
  if (found == cache.Plans.end())
  {
    // FFTW is row-major (last index fastest); ITK buffers are x fastest. The leading
    // (fastest) axes are transformed, the others form a batch of contiguous blocks.
    const int                  rank = static_cast<int>(m_TransformedAxes);
    std::vector<int>           extents(m_Size.rend() - static_cast<std::ptrdiff_t>(m_TransformedAxes), m_Size.rend());
    std::vector<fftw_r2r_kind> kinds(m_TransformedAxes, FFTW_RODFT00);
    int                        block = 1;
    for (const int extent : extents)
    {
      block *= extent;
    }
    const int  batch = static_cast<int>(m_NumberOfElements / static_cast<std::size_t>(block));
    BufferType scratch = AllocateBuffer(m_NumberOfElements);
    fftwf_plan plan = nullptr;
    {
      // FFTW's planner is not thread-safe; ITK's FFT filters plan under this lock too.
      std::lock_guard<std::mutex> plannerLock(itk::FFTWGlobalConfiguration::GetLockMutex());
      plan = fftwf_plan_many_r2r(rank,
                                 extents.data(),
                                 batch,
                                 scratch.get(),
                                 nullptr,
                                 1,
                                 block,
                                 scratch.get(),
                                 nullptr,
                                 1,
                                 block,
                                 kinds.data(),
                                 FFTW_ESTIMATE);
    }
    if (plan == nullptr)
    {
      throw Error("DiscreteSineTransform: FFTW could not plan a DST-I of size " + SizeToString(m_Size));
    }
    found = cache.Plans.emplace(key, plan).first;
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
  if (m_Algorithm == AlgorithmEnum::RealToReal)
  {
    fftwf_execute_r2r(static_cast<fftwf_plan>(m_Plan), data, data);
    return;
  }
  thread_local TransformScratch scratch;
  std::size_t                   inner = 1;
  for (std::size_t axis = 0; axis < m_TransformedAxes; ++axis)
  {
    const std::size_t n = m_Size[axis];
    TransformAxis(*static_cast<const AxisEngine *>(m_Engines[axis]), data, inner, m_NumberOfElements / (inner * n), scratch);
    inner *= n;
  }
}

double
DiscreteSineTransform::GetNormalisationFactor() const
{
  double factor = 1.0;
  for (std::size_t i = 0; i < m_TransformedAxes; ++i)
  {
    factor *= 2.0 * static_cast<double>(m_Size[i] + 1);
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

bool
DiscreteSineTransform::UsesDenseProduct(std::size_t n)
{
  if (n > 320)
  {
    return false; // beyond the measured range the O(n^2) product loses
  }
  // The FFT of length L = 2(n + 1) = 2^a m (m odd) is fast when FFTW's SIMD power-of-two
  // codelets do most of the work: m without prime factors above 7 and 2^a >= 64, or
  // 2^a >= 16 from n = 112 on. Everything else is faster as a product (a sweep of
  // n = 7..288 on the reference machine, Documentation/PoissonBlending.md).
  std::size_t odd = n + 1;
  std::size_t twos = 2;
  while (odd % 2 == 0)
  {
    odd /= 2;
    twos *= 2;
  }
  for (const std::size_t factor : { 3, 5, 7 })
  {
    while (odd % factor == 0)
    {
      odd /= factor;
    }
  }
  const bool fastFFT = odd == 1 && (twos >= 64 || (twos >= 16 && n >= 112));
  return !fastFFT;
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

} // namespace nsa
