#include "itkSlidingRankMedian.h"

#include "itkMacro.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace itk
{

namespace
{

/** Index of the lowest set bit of a non-zero word. */
inline unsigned int
LowestBit(std::uint64_t word)
{
#if defined(__GNUC__) || defined(__clang__)
  return static_cast<unsigned int>(__builtin_ctzll(word));
#else
  unsigned int bit = 0;
  while (!(word & 1u))
  {
    word >>= 1;
    ++bit;
  }
  return bit;
#endif
}

/** A histogram of ranks in 64-rank blocks: a count per rank, a count per block and a bit per
 * occupied rank. Insert and remove are O(1); the k-th smallest is found by walking whole
 * blocks from the block of the previous answer (adjacent windows have close medians) and
 * then only the occupied ranks of one block (a window of w voxels occupies about
 * 64 w / ranks of a block's 64 ranks). Counts are TCount: 16 bits when the window holds
 * fewer than 2^16 voxels (every 2D window up to radius 127, 3D up to radius 19), which halves
 * the histogram's footprint and keeps a 2D label region's histogram in the L1 cache. */
template <typename TCount>
class RankHistogram
{
public:
  explicit RankHistogram(std::size_t ranks)
    : m_Fine(ranks, 0)
    , m_Coarse(ranks / Block + 1, 0)
    , m_Occupied(ranks / Block + 1, 0)
  {}

  void
  Insert(std::uint32_t rank)
  {
    Count(m_Fine.data(), m_Coarse.data(), m_Occupied.data(), m_Block, m_Below, rank);
  }

  void
  Remove(std::uint32_t rank)
  {
    Uncount(m_Fine.data(), m_Coarse.data(), m_Occupied.data(), m_Block, m_Below, rank);
  }

  /** For each offset o of `offsets`: removes ranks[o + out] and inserts ranks[o + in] (a
   * window's face moving along x). One loop with the histogram's pointers and the count below
   * the current block in registers; it took 5 % off a 256^2 NSA sample (issue 17). */
  void
  Replace(const std::uint32_t * ranks, const long * offsets, std::size_t count, long out, long in)
  {
    TCount *            fine = m_Fine.data();
    TCount *            coarse = m_Coarse.data();
    std::uint64_t *     occupied = m_Occupied.data();
    const std::uint32_t current = m_Block;
    std::uint32_t       below = m_Below;
    for (std::size_t i = 0; i < count; ++i)
    {
      Uncount(fine, coarse, occupied, current, below, ranks[offsets[i] + out]);
      Count(fine, coarse, occupied, current, below, ranks[offsets[i] + in]);
    }
    m_Below = below;
  }

  /** The rank of the 0-based k-th smallest element; k must be below the number of elements. */
  std::uint32_t
  Select(std::uint32_t k)
  {
    while (m_Below > k)
    {
      --m_Block;
      m_Below -= m_Coarse[m_Block];
    }
    while (m_Below + m_Coarse[m_Block] <= k)
    {
      m_Below += m_Coarse[m_Block];
      ++m_Block;
    }
    std::uint32_t       left = k - m_Below;
    std::uint64_t       bits = m_Occupied[m_Block];
    const std::uint32_t base = m_Block * Block;
    for (;;)
    {
      const std::uint32_t rank = base + LowestBit(bits);
      const std::uint32_t here = m_Fine[rank];
      if (left < here)
      {
        return rank;
      }
      left -= here;
      bits &= bits - 1;
    }
  }

  /** After every element was removed again: nothing is below the current block. */
  void
  Emptied()
  {
    m_Below = 0;
  }

private:
  static constexpr std::uint32_t Block = 64;

  /** One element of `rank` into the counts; `below` counts the elements in blocks below
   * `current`. Branch-free: whether a rank's count crosses zero is a coin toss for the
   * branch predictor. */
  static void
  Count(TCount *        fine,
        TCount *        coarse,
        std::uint64_t * occupied,
        std::uint32_t   current,
        std::uint32_t & below,
        std::uint32_t   rank)
  {
    const std::uint32_t block = rank / Block;
    ++fine[rank];
    occupied[block] |= std::uint64_t{ 1 } << (rank % Block);
    ++coarse[block];
    below += block < current ? 1 : 0;
  }

  /** One element of `rank` out of the counts, as Count. */
  static void
  Uncount(TCount *        fine,
          TCount *        coarse,
          std::uint64_t * occupied,
          std::uint32_t   current,
          std::uint32_t & below,
          std::uint32_t   rank)
  {
    const std::uint32_t block = rank / Block;
    const std::uint64_t emptied = --fine[rank] == 0 ? 1 : 0;
    occupied[block] &= ~(emptied << (rank % Block));
    --coarse[block];
    below -= block < current ? 1 : 0;
  }

  std::vector<TCount>            m_Fine;
  std::vector<TCount>            m_Coarse;
  std::vector<std::uint64_t>     m_Occupied;
  std::uint32_t                  m_Block{ 0 };
  std::uint32_t                  m_Below{ 0 }; // elements in blocks below m_Block
};

/** The window of a sliding median: the ranks of the (2r+1)^D voxels around voxel `Centre()`
 * of the current row (rows run along axis 0), held in a RankHistogram. Indices outside the
 * buffer are clamped: the border is replicated, as ZeroFluxNeumannBoundaryCondition does.
 * The window moves one voxel along its row (one column out, one in), down to the next row
 * along axis 1 (one face out, one in), or is rebuilt from scratch. */
template <unsigned int VDimension, typename TCount>
class RankWindow
{
public:
  RankWindow(const std::uint32_t * ranks,
             std::size_t           numberOfRanks,
             const long (&extent)[VDimension],
             unsigned int          radius)
    : m_Ranks(ranks)
    , m_Radius(static_cast<long>(radius))
    , m_Histogram(numberOfRanks)
  {
    long windowSize = 1;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      m_Extent[axis] = extent[axis];
      m_Stride[axis] = axis == 0 ? 1 : m_Stride[axis - 1] * extent[axis - 1];
      windowSize *= 2 * m_Radius + 1;
    }
    m_MedianRank = static_cast<std::uint32_t>(windowSize / 2);
  }

  bool
  Filled() const
  {
    return m_Filled;
  }
  long
  Centre() const
  {
    return m_Centre;
  }
  std::uint32_t
  Median()
  {
    return m_Histogram.Select(m_MedianRank);
  }

  /** Takes the window to `row` (its position along axes 1..D-1 in `position`): by one face
   * when `row` is the next row along axis 1 and the window is filled, else emptied. */
  void
  EnterRow(long row, const long (&position)[VDimension])
  {
    if (m_Filled && row == m_Row + 1 && position[1] > 0)
    {
      this->StepDown(position[1]);
    }
    else
    {
      this->Clear();
    }
    this->MakeFace(position);
    m_Row = row;
  }

  /** Centres the window at x = `start` of the current row: travels there voxel by voxel when
   * that costs less than rebuilding (at most one window width away), else rebuilds. */
  void
  GoTo(long start)
  {
    if (m_Filled && std::abs(m_Centre - start) <= 2 * m_Radius + 1)
    {
      while (m_Centre != start)
      {
        this->Move(m_Centre < start ? 1 : -1);
      }
    }
    else
    {
      this->Clear();
      this->Fill(start);
    }
  }

  /** Moves the window one voxel along its row (step +1 or -1). */
  void
  Move(long step)
  {
    const long out = Clamp(step > 0 ? m_Centre - m_Radius : m_Centre + m_Radius, m_Extent[0]);
    const long in = Clamp(step > 0 ? m_Centre + m_Radius + 1 : m_Centre - m_Radius - 1, m_Extent[0]);
    if (out != in)
    {
      m_Histogram.Replace(m_Ranks, m_Face.data(), m_Face.size(), out, in);
    }
    m_Centre += step;
  }

private:
  static long
  Clamp(long i, long n)
  {
    return std::min(n - 1, std::max(0L, i));
  }

  /** The offsets of the rows that make up the window's face across x for a row at
   * `position`; m_Outer gets the offsets along axes 2..D-1 only. */
  void
  MakeFace(const long (&position)[VDimension])
  {
    m_Outer.assign(1, 0);
    for (unsigned int axis = 2; axis < VDimension; ++axis)
    {
      m_Next.clear();
      for (long d = -m_Radius; d <= m_Radius; ++d)
      {
        const long p = Clamp(position[axis] + d, m_Extent[axis]);
        for (long base : m_Outer)
        {
          m_Next.push_back(base + p * m_Stride[axis]);
        }
      }
      m_Outer.swap(m_Next);
    }
    m_Face.clear();
    for (long base : m_Outer)
    {
      for (long d = -m_Radius; d <= m_Radius; ++d)
      {
        m_Face.push_back(base + Clamp(position[1] + d, m_Extent[1]) * m_Stride[1]);
      }
    }
  }

  /** Down one row along axis 1, to `y`: the face at the top leaves, one at the bottom enters
   * (the offsets along axes 2..D-1 stay). */
  void
  StepDown(long y)
  {
    const long top = Clamp(y - 1 - m_Radius, m_Extent[1]) * m_Stride[1];
    const long bottom = Clamp(y + m_Radius, m_Extent[1]) * m_Stride[1];
    if (top == bottom)
    {
      return;
    }
    for (long base : m_Outer)
    {
      for (long d = -m_Radius; d <= m_Radius; ++d)
      {
        const long x = Clamp(m_Centre + d, m_Extent[0]);
        m_Histogram.Remove(m_Ranks[base + top + x]);
        m_Histogram.Insert(m_Ranks[base + bottom + x]);
      }
    }
  }

  void
  Column(long x, bool add)
  {
    const long clamped = Clamp(x, m_Extent[0]);
    for (long offset : m_Face)
    {
      if (add)
      {
        m_Histogram.Insert(m_Ranks[offset + clamped]);
      }
      else
      {
        m_Histogram.Remove(m_Ranks[offset + clamped]);
      }
    }
  }

  void
  Clear()
  {
    if (m_Filled)
    {
      for (long d = -m_Radius; d <= m_Radius; ++d)
      {
        this->Column(m_Centre + d, false);
      }
      m_Histogram.Emptied();
      m_Filled = false;
    }
  }

  void
  Fill(long x)
  {
    m_Centre = x;
    for (long d = -m_Radius; d <= m_Radius; ++d)
    {
      this->Column(m_Centre + d, true);
    }
    m_Filled = true;
  }

  const std::uint32_t * m_Ranks;
  long                  m_Extent[VDimension];
  long                  m_Stride[VDimension];
  long                  m_Radius;
  std::uint32_t         m_MedianRank;
  RankHistogram<TCount> m_Histogram;
  std::vector<long>     m_Face;
  std::vector<long>     m_Outer;
  std::vector<long>     m_Next;
  bool                  m_Filled = false; // the histogram holds the window centred at m_Centre of row m_Row
  long                  m_Centre = 0;
  long                  m_Row = -1;
};

/** The first and last voxel of a row of `length` voxels that `mask` marks (the whole row when
 * null); false when it marks none. */
inline bool
MaskedSpan(const unsigned char * mask, long length, long & first, long & last)
{
  first = 0;
  last = length - 1;
  if (!mask)
  {
    return true;
  }
  while (first <= last && !mask[first])
  {
    ++first;
  }
  if (first > last)
  {
    return false;
  }
  while (!mask[last])
  {
    --last;
  }
  return true;
}

/** The sliding median of ranks over a buffer of `extent` voxels; calls emit(offset, rank)
 * where `mask` is non-zero (everywhere when null). Each row is swept only between its first
 * and last masked voxel, and rows are visited boustrophedon: the window moves down one
 * row (one face of the window out, one in) and sweeps the next row in the opposite
 * direction, so it is built from scratch only where rows are not adjacent. */
template <unsigned int VDimension, typename TCount, typename TEmit>
void
SlideRanksWith(const std::uint32_t * ranks,
               std::size_t           numberOfRanks,
               const long (&extent)[VDimension],
               const unsigned char * mask,
               unsigned int          radius,
               TEmit &&              emit)
{
  static_assert(VDimension >= 2, "rows along axis 0 are stacked along axis 1");
  long count = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    count *= extent[axis];
  }
  RankWindow<VDimension, TCount> window(ranks, numberOfRanks, extent, radius);
  const long                     rows = count / extent[0];
  for (long row = 0; row < rows; ++row)
  {
    const long rowStart = row * extent[0];
    long       first = 0;
    long       last = 0;
    if (!MaskedSpan(mask ? mask + rowStart : nullptr, extent[0], first, last))
    {
      continue;
    }
    long position[VDimension];
    long rest = row;
    position[0] = 0;
    for (unsigned int axis = 1; axis < VDimension; ++axis)
    {
      position[axis] = rest % extent[axis];
      rest /= extent[axis];
    }
    window.EnterRow(row, position);
    // Sweep from the end nearer to the window.
    const long centre = window.Centre();
    const bool rightwards = !window.Filled() || std::abs(centre - first) <= std::abs(centre - last);
    const long start = rightwards ? first : last;
    const long end = rightwards ? last : first;
    window.GoTo(start);
    for (;;)
    {
      if (!mask || mask[rowStart + window.Centre()])
      {
        emit(rowStart + window.Centre(), window.Median());
      }
      if (window.Centre() == end)
      {
        break;
      }
      window.Move(rightwards ? 1 : -1);
    }
  }
}

/** SlideRanksWith with 16-bit histogram counts when the window allows it. */
template <unsigned int VDimension, typename TEmit>
void
SlideRanks(const std::uint32_t * ranks,
           std::size_t           numberOfRanks,
           const long (&extent)[VDimension],
           const unsigned char * mask,
           unsigned int          radius,
           TEmit &&              emit)
{
  double windowSize = 1.0;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    windowSize *= 2.0 * radius + 1.0;
  }
  if (windowSize < 65536.0)
  {
    SlideRanksWith<VDimension, std::uint16_t>(ranks, numberOfRanks, extent, mask, radius, std::forward<TEmit>(emit));
  }
  else
  {
    SlideRanksWith<VDimension, std::uint32_t>(ranks, numberOfRanks, extent, mask, radius, std::forward<TEmit>(emit));
  }
}

template <unsigned int VDimension, typename TPixel>
typename Image<TPixel, VDimension>::Pointer
MakeOutput(const Image<TPixel, VDimension> * input, long (&extent)[VDimension])
{
  using ImageType = Image<TPixel, VDimension>;
  const auto region = input->GetBufferedRegion();
  auto       output = ImageType::New();
  output->CopyInformation(input);
  output->SetRegions(region);
  output->Allocate();
  output->FillBuffer(TPixel{});
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    extent[axis] = static_cast<long>(region.GetSize()[axis]);
  }
  return output;
}

/** An unsigned key with the order of the float values (-0 and +0 one key). */
inline std::uint32_t
OrderedKey(float value)
{
  if (value == 0.0f)
  {
    value = 0.0f;
  }
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

/** Ranks among the distinct values: ranks[i] is the number of distinct values below
 * values[i]; distinct[rank] is the value. A least-significant-digit radix sort of
 * (key, index) pairs, three passes of 11 bits (a pass that one digit value fills is
 * skipped): O(n), where std::sort and a binary search per voxel cost O(n log n). Zeros
 * (-0 and +0, most of a label's region) stay out of the sort and take their rank at the end. */
void
RankValues(const float *                values,
           std::size_t                  count,
           std::vector<std::uint32_t> & ranks,
           std::vector<float> &         distinct)
{
  constexpr unsigned int     Bits = 11;
  constexpr unsigned int     Buckets = 1u << Bits;
  std::unique_ptr<std::uint64_t[]> pairs(new std::uint64_t[count]);
  std::unique_ptr<std::uint64_t[]> sorted(new std::uint64_t[count]);
  std::vector<std::uint32_t> histogram(3 * Buckets, 0);
  std::size_t                n = 0;
  for (std::size_t i = 0; i < count; ++i)
  {
    if (values[i] == 0.0f)
    {
      continue;
    }
    const std::uint32_t key = OrderedKey(values[i]);
    pairs[n++] = (static_cast<std::uint64_t>(key) << 32) | static_cast<std::uint64_t>(i);
    ++histogram[key & (Buckets - 1)];
    ++histogram[Buckets + ((key >> Bits) & (Buckets - 1))];
    ++histogram[2 * Buckets + (key >> (2 * Bits))];
  }
  for (unsigned int pass = 0; pass < 3 && n > 0; ++pass)
  {
    std::uint32_t * bucket = histogram.data() + pass * Buckets;
    const unsigned  shift = 32 + pass * Bits;
    if (bucket[(pairs[0] >> shift) & (Buckets - 1)] == n)
    {
      continue; // one digit value for all keys: this pass would not move anything
    }
    std::uint32_t sum = 0;
    for (unsigned int b = 0; b < Buckets; ++b)
    {
      const std::uint32_t here = bucket[b];
      bucket[b] = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i)
    {
      sorted[bucket[(pairs[i] >> shift) & (Buckets - 1)]++] = pairs[i];
    }
    pairs.swap(sorted);
  }
  ranks.resize(count);
  distinct.clear();
  const bool          zeros = n < count;
  const std::uint64_t zeroKey = OrderedKey(0.0f);
  std::uint32_t       zeroRank = 0;
  bool                zeroPlaced = !zeros;
  std::uint64_t       previous = ~std::uint64_t{ 0 };
  for (std::size_t i = 0; i < n; ++i)
  {
    const std::uint64_t key = pairs[i] >> 32;
    const auto          index = static_cast<std::size_t>(pairs[i] & 0xFFFFFFFFu);
    if (!zeroPlaced && key > zeroKey)
    {
      zeroRank = static_cast<std::uint32_t>(distinct.size());
      distinct.push_back(0.0f);
      zeroPlaced = true;
    }
    if (key != previous)
    {
      distinct.push_back(values[index]);
      previous = key;
    }
    ranks[index] = static_cast<std::uint32_t>(distinct.size() - 1);
  }
  if (!zeroPlaced)
  {
    zeroRank = static_cast<std::uint32_t>(distinct.size());
    distinct.push_back(0.0f);
  }
  if (zeros)
  {
    for (std::size_t i = 0; i < count; ++i)
    {
      if (values[i] == 0.0f)
      {
        ranks[i] = zeroRank;
      }
    }
  }
}

/** Separable box counts of a 0/1 image with replicated borders: the number of ones in each
 * voxel's (2r+1)^D window, one running sum per axis (O(n) whatever the radius). */
template <unsigned int VDimension>
void
BoxCounts(const unsigned char * values, const long (&extent)[VDimension], long radius, std::vector<std::uint32_t> & counts)
{
  long count = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    count *= extent[axis];
  }
  counts.assign(values, values + count);
  std::vector<std::uint32_t> line;
  long                       stride = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    const long n = extent[axis];
    line.resize(static_cast<std::size_t>(n));
    // Every line along this axis: it starts at an offset with index 0 on the axis.
    for (long outer = 0; outer < count; outer += stride * n)
    {
      for (long start = outer; start < outer + stride; ++start)
      {
        for (long i = 0; i < n; ++i)
        {
          line[i] = counts[start + i * stride];
        }
        auto          at = [&](long i) { return line[std::min(n - 1, std::max(0L, i))]; };
        std::uint32_t sum = 0;
        for (long d = -radius; d <= radius; ++d)
        {
          sum += at(d);
        }
        for (long i = 0; i < n; ++i)
        {
          counts[start + i * stride] = sum;
          sum += at(i + radius + 1);
          sum -= at(i - radius);
        }
      }
    }
    stride *= n;
  }
}

} // namespace

template <unsigned int VDimension>
typename Image<float, VDimension>::Pointer
SlidingRankMedian(const Image<float, VDimension> *         input,
                  const Image<unsigned char, VDimension> * where,
                  unsigned int                             radius)
{
  long       extent[VDimension];
  auto       output = MakeOutput(input, extent);
  const auto count = input->GetBufferedRegion().GetNumberOfPixels();
  if (count == 0)
  {
    return output;
  }
  if (count > std::numeric_limits<std::uint32_t>::max())
  {
    itkGenericExceptionMacro("SlidingRankMedian: regions of more than 2^32 voxels are not supported, got " << count);
  }
  std::vector<std::uint32_t> ranks;
  std::vector<float>         distinct;
  RankValues(input->GetBufferPointer(), count, ranks, distinct);
  float * out = output->GetBufferPointer();
  SlideRanks<VDimension>(ranks.data(), distinct.size(), extent, where ? where->GetBufferPointer() : nullptr, radius,
                         [&](long offset, std::uint32_t rank) { out[offset] = distinct[rank]; });
  return output;
}

template <unsigned int VDimension>
typename Image<unsigned char, VDimension>::Pointer
SlidingRankMedian(const Image<unsigned char, VDimension> * input, unsigned int radius)
{
  long                  extent[VDimension];
  auto                  output = MakeOutput(input, extent);
  const auto            count = input->GetBufferedRegion().GetNumberOfPixels();
  const unsigned char * values = input->GetBufferPointer();
  unsigned char *       out = output->GetBufferPointer();
  if (count == 0)
  {
    return output;
  }
  const bool binary = std::all_of(values, values + count, [](unsigned char v) { return v <= 1; });
  if (binary)
  {
    // The median of 0/1 values is 1 exactly when more than half of the (odd) window is 1.
    std::vector<std::uint32_t> counts;
    BoxCounts<VDimension>(values, extent, static_cast<long>(radius), counts);
    long windowSize = 1;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      windowSize *= 2 * static_cast<long>(radius) + 1;
    }
    const auto half = static_cast<std::uint32_t>(windowSize / 2);
    for (std::size_t i = 0; i < count; ++i)
    {
      out[i] = counts[i] > half ? 1 : 0;
    }
    return output;
  }
  // An 8-bit value is its own rank.
  std::vector<std::uint32_t> ranks(values, values + count);
  SlideRanks<VDimension>(ranks.data(), 256, extent, nullptr, radius, [&](long offset, std::uint32_t rank) {
    out[offset] = static_cast<unsigned char>(rank);
  });
  return output;
}

template Image<float, 2>::Pointer
SlidingRankMedian<2>(const Image<float, 2> *, const Image<unsigned char, 2> *, unsigned int);
template Image<float, 3>::Pointer
SlidingRankMedian<3>(const Image<float, 3> *, const Image<unsigned char, 3> *, unsigned int);
template Image<unsigned char, 2>::Pointer
SlidingRankMedian<2>(const Image<unsigned char, 2> *, unsigned int);
template Image<unsigned char, 3>::Pointer
SlidingRankMedian<3>(const Image<unsigned char, 3> *, unsigned int);

} // namespace itk
