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
 * by their ranks among the region's distinct values (one sort), and the window slides along
 * x with a two-level histogram of ranks (Huang, Yang & Tang 1979; Perreault & Hebert 2007):
 * each step removes one face of the window and adds one, and the median moves from the
 * previous one. The result is bit for bit MedianImageFilter's, at a fraction of the cost.
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

/** The same for an 8-bit image (each value is its own rank, no sort): for a 0/1 mask this is
 * exactly BinaryMedianImageFilter's majority vote with replicated borders. */
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
