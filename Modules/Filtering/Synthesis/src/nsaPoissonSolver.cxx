#include "nsaPoissonSolver.h"

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

/** DST-I along one axis of n points: lines of the grid [outer][n][inner] (inner fastest). */
void
TransformAxis(const AxisEngine & engine, float * data, std::size_t inner, std::size_t outer, TransformScratch & scratch)
{
  const std::size_t n = engine.Length;
  if (engine.Dense)
  {
    const std::size_t half = (n + 1) / 2;
    const std::size_t even = (n + 1) / 2;
    const std::size_t odd = n / 2;
    if (inner == 1)
    {
      // Lines are rows, 64 at a time: U, V (lines x half), then
      // Y_even = U EvenColumns and Y_odd = V OddColumns, interleaved back.
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
    else
    {
      // Lines are columns of an n x inner slab: rows U, V (half x width, padded to a multiple
      // of 16 floats), then Y_even = EvenRows U and Y_odd = OddRows V, rows interleaved back.
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
    return;
  }

  // Packed complex FFT. Pair p of a chunk: line 2p in the real part, line 2p+1 in the
  // imaginary part, extended to odd symmetry z_t = -z_{2(n+1)-t} with z_0 = z_{n+1} = 0. The
  // DFT of an odd real sequence is -2i times its DST-I, so RODFT00(real line) = -Im Z_k and
  // RODFT00(imaginary line) = Re Z_k, k = 1..n.
  constexpr std::size_t P = kPairsPerChunk;
  const std::size_t     period = 2 * (n + 1);
  auto *                z = reinterpret_cast<fftwf_complex *>(scratch.Get(2 * period * P));
  const auto            execute = [&]() {
    // Points 0 and n + 1 of the odd extension are zero; the previous in-place DFT left its
    // outputs there.
    for (std::size_t p = 0; p < P; ++p)
    {
      z[p][0] = z[p][1] = 0.0f;
      z[(n + 1) * P + p][0] = z[(n + 1) * P + p][1] = 0.0f;
    }
    fftwf_execute_dft(engine.Plan, z, z);
  };
  if (inner == 1)
  {
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
      execute();
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
    return;
  }
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
      execute();
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
DiscreteSineTransform::GetNormalizationFactor() const
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


namespace
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

  /** One red (color 0) or black (color 1) half-sweep of Gauss-Seidel over-relaxed by
   * kRelaxation (red-black SOR). */
  static void
  Sweep(const Level & level, float * x, const float * b, unsigned int color)
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
        for (std::size_t i = (color + j + k) & 1u; i < level.Active[0]; i += 2)
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

} // namespace

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
  const bool useMultigrid = !fillsBox && options.Preconditioner == PreconditionerEnum::Multigrid;
  // A filled box is solved directly by one DST of the box itself (no enlargement).
  if (options.EnlargeToFastSize && !fillsBox && !useMultigrid)
  {
    // The last axis is solved by tridiagonal systems, which take any length.
    for (std::size_t i = 0; i + 1 < dimension; ++i)
    {
      s.WorkingSize[i] = DiscreteSineTransform::NextFastLength(s.WorkingSize[i]);
    }
  }
  s.FillsWorkingGrid = fillsBox && s.WorkingSize == s.Size;

  // Strides of the working grid, and the box's (centred) place in it.
  std::vector<std::size_t> workStride(dimension, 1);
  std::size_t              workOrigin = 0;
  for (std::size_t i = 1; i < dimension; ++i)
  {
    workStride[i] = workStride[i - 1] * s.WorkingSize[i - 1];
  }
  for (std::size_t i = 0; i < dimension; ++i)
  {
    workOrigin += ((s.WorkingSize[i] - s.Size[i]) / 2) * workStride[i];
  }

  // Padded box (one zero voxel per side) for the matrix products; unused axes: stride 0 and
  // weight 0, so the stencil reads the centre voxel with weight zero there.
  std::vector<std::size_t> paddedStride(dimension, 1);
  s.PaddedCount = 1;
  for (std::size_t i = 0; i < dimension; ++i)
  {
    paddedStride[i] = s.PaddedCount;
    s.PaddedCount *= s.Size[i] + 2;
    if (i < 3)
    {
      s.PaddedStride[i] = paddedStride[i];
      s.Weight3[i] = s.Weights[i];
    }
  }
  if (dimension > 3)
  {
    throw ParameterError("PoissonSolver: at most 3 dimensions are supported");
  }

  s.UnknownCount = count;
  if (!s.FillsWorkingGrid)
  {
    s.BoxOffsets.reserve(count);
    s.WorkingOffsets.reserve(count);
    s.PaddedOffsets.reserve(count);
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
        s.BoxOffsets.push_back(offset);
        s.WorkingOffsets.push_back(workOffset);
        s.PaddedOffsets.push_back(paddedOffset);
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

  if (useMultigrid)
  {
    s.Cycle = std::make_unique<Multigrid>(s.Size, s.Weights, s.BoxOffsets);
    const auto & extent = s.Cycle->GetFinestExtent();
    s.WorkingSize.assign(extent.begin(), extent.begin() + static_cast<std::ptrdiff_t>(dimension));
    return;
  }
  // Fast Poisson solver on the working grid (Fourier analysis + cyclic reduction's simplest
  // form, "FACR(0)"): DST-I along all axes but the last, then, for every transformed mode, a
  // tridiagonal system along the last axis. This saves the slowest third (3D) or half (2D) of
  // the transforms of a full DST solve, and the last axis may have any length.
  const double      pi = 3.14159265358979323846;
  const std::size_t last = dimension - 1;
  s.WorkingCount = 1;
  for (const std::size_t extent : s.WorkingSize)
  {
    s.WorkingCount *= extent;
  }
  s.Lines = s.WorkingSize[last];
  s.Block = s.WorkingCount / s.Lines;
  double normalization = 1.0;
  if (dimension > 1)
  {
    s.Transform = std::make_unique<DiscreteSineTransform>(s.WorkingSize, dimension - 1);
    normalization = s.Transform->GetNormalizationFactor();
  }
  s.Scale = static_cast<float>(1.0 / normalization);
  s.LastWeight = static_cast<float>(s.Weights[last]);
  // Eigenvalue of every transformed mode: sum over the leading axes of w_i (2 - 2 cos(pi k / (n + 1))).
  std::vector<double> modeEigenvalue(s.Block, 0.0);
  {
    std::size_t stride = 1;
    for (std::size_t i = 0; i < last; ++i)
    {
      const std::size_t n = s.WorkingSize[i];
      for (std::size_t m = 0; m < s.Block; ++m)
      {
        const std::size_t k = (m / stride) % n;
        modeEigenvalue[m] +=
          s.Weights[i] * (2.0 - 2.0 * std::cos(pi * static_cast<double>(k + 1) / static_cast<double>(n + 1)));
      }
      stride *= n;
    }
  }
  // Thomas algorithm factors of  -w x_{j-1} + (lambda + 2w) x_j - w x_{j+1} = r_j  per mode:
  // 1 / denominator_j, with denominator_0 = d and denominator_j = d - w^2 / denominator_{j-1}.
  s.InverseDenominator.resize(s.WorkingCount);
  {
    const double        w = s.Weights[last];
    std::vector<double> denominator(s.Block);
    for (std::size_t j = 0; j < s.Lines; ++j)
    {
      for (std::size_t m = 0; m < s.Block; ++m)
      {
        const double d = modeEigenvalue[m] + 2.0 * w;
        denominator[m] = j == 0 ? d : d - w * w / denominator[m];
        s.InverseDenominator[j * s.Block + m] = static_cast<float>(1.0 / denominator[m]);
      }
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
