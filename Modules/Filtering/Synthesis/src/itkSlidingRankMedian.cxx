#include "itkSlidingRankMedian.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace itk
{

namespace
{

/** A histogram of ranks with 64-rank blocks: O(1) insert and remove, the k-th smallest found
 * by walking from a previous answer. */
class RankHistogram
{
public:
  explicit RankHistogram(std::size_t ranks)
    : m_Fine(ranks, 0)
    , m_Coarse(ranks / Block + 1, 0)
  {}

  void
  Add(std::uint32_t rank, int weight)
  {
    m_Fine[rank] += weight;
    m_Coarse[rank / Block] += weight;
    if (rank < m_Median)
    {
      m_Below += weight;
    }
  }

  /** The rank of the element with `k` elements below it (0-based k-th smallest). */
  std::uint32_t
  Select(int k)
  {
    // Move down while too many are below the current candidate.
    while (m_Below > k)
    {
      // Step back over whole empty or full blocks when aligned.
      if (m_Median % Block == 0 && m_Median >= Block && m_Below - m_Coarse[m_Median / Block - 1] > k)
      {
        m_Median -= Block;
        m_Below -= m_Coarse[m_Median / Block];
        continue;
      }
      --m_Median;
      m_Below -= m_Fine[m_Median];
    }
    // Move up while the candidate and everything below it are still not more than k.
    while (m_Below + m_Fine[m_Median] <= k)
    {
      if (m_Median % Block == 0 && m_Below + m_Coarse[m_Median / Block] <= k)
      {
        m_Below += m_Coarse[m_Median / Block];
        m_Median += Block;
        continue;
      }
      m_Below += m_Fine[m_Median];
      ++m_Median;
    }
    return m_Median;
  }

  /** After every element was removed again: nothing is below the current candidate. */
  void
  Emptied()
  {
    m_Below = 0;
  }

private:
  static constexpr std::uint32_t Block = 64;
  std::vector<int>               m_Fine;
  std::vector<int>               m_Coarse;
  std::uint32_t                  m_Median{ 0 };
  int                            m_Below{ 0 }; // elements with rank < m_Median
};

/** The sliding median of ranks over a buffer of `extent` voxels; calls emit(offset, rank)
 * where `mask` is non-zero (everywhere when null). */
template <unsigned int VDimension, typename TEmit>
void
SlideRanks(const std::vector<std::uint32_t> & ranks,
           std::size_t                        numberOfRanks,
           const long (&extent)[VDimension],
           const unsigned char *              mask,
           unsigned int                       radius,
           TEmit &&                           emit)
{
  long stride[VDimension];
  long windowSize = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    stride[axis] = axis == 0 ? 1 : stride[axis - 1] * extent[axis - 1];
    windowSize *= 2 * static_cast<long>(radius) + 1;
  }
  const int     k = static_cast<int>(windowSize / 2);
  const long    r = static_cast<long>(radius);
  RankHistogram histogram(numberOfRanks);

  const long        rows = static_cast<long>(ranks.size()) / extent[0];
  std::vector<long> face;
  for (long row = 0; row < rows; ++row)
  {
    // This row's position along axes 1..D-1.
    long position[VDimension];
    long rest = row;
    position[0] = 0;
    for (unsigned int axis = 1; axis < VDimension; ++axis)
    {
      position[axis] = rest % extent[axis];
      rest /= extent[axis];
    }
    // Does this row need any median?
    const long rowStart = row * extent[0];
    if (mask)
    {
      bool any = false;
      for (long x = 0; x < extent[0] && !any; ++x)
      {
        any = mask[rowStart + x] != 0;
      }
      if (!any)
      {
        continue;
      }
    }
    // Offsets of the rows that make up the window's face across x (clamped indices: the
    // border is replicated, as ZeroFluxNeumannBoundaryCondition does).
    face.clear();
    face.push_back(0);
    for (unsigned int axis = 1; axis < VDimension; ++axis)
    {
      std::vector<long> next;
      for (long d = -r; d <= r; ++d)
      {
        const long p = std::min(extent[axis] - 1, std::max(0L, position[axis] + d));
        for (long base : face)
        {
          next.push_back(base + p * stride[axis]);
        }
      }
      face.swap(next);
    }
    auto addColumn = [&](long x, int weight) {
      const long clamped = std::min(extent[0] - 1, std::max(0L, x));
      for (long offset : face)
      {
        histogram.Add(ranks[static_cast<std::size_t>(offset + clamped)], weight);
      }
    };
    for (long d = -r; d <= r; ++d)
    {
      addColumn(d, +1);
    }
    for (long x = 0; x < extent[0]; ++x)
    {
      if (x > 0)
      {
        addColumn(x - r - 1, -1);
        addColumn(x + r, +1);
      }
      if (!mask || mask[rowStart + x])
      {
        emit(rowStart + x, histogram.Select(k));
      }
    }
    // Empty the histogram again by removing the last window (cheaper than clearing it).
    for (long d = -r; d <= r; ++d)
    {
      addColumn(extent[0] - 1 + d, -1);
    }
    histogram.Emptied();
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
  // Ranks among the distinct values.
  const float *      values = input->GetBufferPointer();
  std::vector<float> distinct(values, values + count);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<std::uint32_t> ranks(count);
  for (std::size_t i = 0; i < count; ++i)
  {
    ranks[i] = static_cast<std::uint32_t>(std::lower_bound(distinct.begin(), distinct.end(), values[i]) - distinct.begin());
  }
  float * out = output->GetBufferPointer();
  SlideRanks<VDimension>(ranks, distinct.size(), extent, where ? where->GetBufferPointer() : nullptr, radius,
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
  // An 8-bit value is its own rank.
  std::vector<std::uint32_t> ranks(values, values + count);
  unsigned char *            out = output->GetBufferPointer();
  if (count > 0)
  {
    SlideRanks<VDimension>(ranks, 256, extent, nullptr, radius, [&](long offset, std::uint32_t rank) {
      out[offset] = static_cast<unsigned char>(rank);
    });
  }
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
