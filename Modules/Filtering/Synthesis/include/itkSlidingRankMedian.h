#ifndef itkSlidingRankMedian_h
#define itkSlidingRankMedian_h

#include "itkImage.h"

namespace itk
{

/** \brief The box median of `input` over `region`, exactly as MedianImageFilter computes it
 * (window of (2r+1)^D voxels, borders replicated, the element of rank n/2), evaluated only
 * where `where` is non-zero (everywhere when `where` is nullptr; other voxels are 0).
 *
 * MedianImageFilter selects among (2r+1)^D values per voxel (std::nth_element), which made
 * the label's 11x11 median the hot spot of NSA synthesis (55-65 % of the time of the
 * official code, which filters the whole image). Here the values of the region are replaced
 * by their ranks among the region's distinct values (a radix sort of the float keys, O(n)),
 * and the window slides along x over a histogram of ranks (Huang, Yang & Tang 1979): each
 * step removes one face of the window and adds one. The histogram keeps a count per rank, a
 * count per 64-rank block and a bit per occupied rank, so the median is found by walking
 * whole blocks from the previous median's block and then only the occupied ranks of one
 * block. Each row is swept only between its first and last voxel in `where`, rows in
 * alternating directions (the window moves down a row instead of being rebuilt). The result is
 * bit for bit MedianImageFilter's (a zero may come out as +0 where MedianImageFilter
 * returns -0: they are one value), at a small fraction of the cost.
 *
 * `input` and `where` must buffer `region`. Used by SyntheticAnomalyLabelImageFilter.
 *
 * \ingroup NSASynthesis
 */
template <unsigned int VDimension>
typename Image<float, VDimension>::Pointer
SlidingRankMedian(const Image<float, VDimension> *         input,
                  const Image<unsigned char, VDimension> * where,
                  unsigned int                             radius);

/** The same for an 8-bit image (each value is its own rank, no sort). A 0/1 image (a mask)
 * takes a shortcut: its median is 1 exactly where more than half of the window is 1, counted
 * by separable running box sums in O(n) whatever the radius; this is exactly
 * BinaryMedianImageFilter's majority vote with replicated borders. */
template <unsigned int VDimension>
typename Image<unsigned char, VDimension>::Pointer
SlidingRankMedian(const Image<unsigned char, VDimension> * input, unsigned int radius);

extern template Image<float, 2>::Pointer
SlidingRankMedian<2>(const Image<float, 2> *, const Image<unsigned char, 2> *, unsigned int);
extern template Image<float, 3>::Pointer
SlidingRankMedian<3>(const Image<float, 3> *, const Image<unsigned char, 3> *, unsigned int);
extern template Image<unsigned char, 2>::Pointer
SlidingRankMedian<2>(const Image<unsigned char, 2> *, unsigned int);
extern template Image<unsigned char, 3>::Pointer
SlidingRankMedian<3>(const Image<unsigned char, 3> *, unsigned int);

} // namespace itk

#endif
