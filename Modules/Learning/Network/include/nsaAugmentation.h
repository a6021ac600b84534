#ifndef nsaAugmentation_h
#define nsaAugmentation_h

#include "nsaParameters.h"
#include "nsaRandom.h"

#include "itkImage.h"

namespace nsa
{

/** \brief The range of normalised intensities an augmentation works in: the
 * normalisation's output range, and whether values are clipped to it afterwards. */
struct IntensityRange
{
  double low = 0.0;
  double high = 1.0;
  bool   clip = true;
};

/** Applies scanner-variation augmentation (nsa::AugmentationParameters) to a normalised
 * training image and, for the geometric transforms, to its object mask (may be null), in
 * this order, each with `parameters.probability` and drawn from its own child stream of
 * `stream` (so switching one transform on or off leaves the others' draws unchanged):
 *
 * 1. elastic: a random cubic B-spline deformation (itk::BSplineTransform, control points
 *    every `elastic_spacing` mm, coefficients uniform in ±`elastic_displacement` mm),
 *    image resampled linearly, mask by nearest neighbour, outside: `range.low` / 0;
 * 2. resolution: along one random axis, a Gaussian blur whose full width at half maximum is
 *    the simulated slice thickness, sampled at that spacing and interpolated back linearly
 *    (a thick-slice acquisition of the same anatomy);
 * 3. blur: isotropic Gaussian (sigma in mm, itk::SmoothingRecursiveGaussianImageFilter);
 * 4. bias field: exp of a random second-order polynomial of the normalised position,
 *    largest |log| = `bias_field`, multiplying the intensities above `range.low`;
 * 5. gamma, contrast (about the mean of the voxels above `range.low`), brightness; contrast
 *    and brightness change only voxels above `range.low`, so the background stays dark as
 *    in real scans;
 * 6. additive Gaussian noise;
 * then clipped to [range.low, range.high] when `range.clip`.
 *
 * Geometry (size, spacing, origin, direction) is kept; the mask changes only through the
 * elastic deformation. The result is a pure function of the inputs and `stream`.
 */
template <unsigned int VDimension>
void
AugmentScanner(typename itk::Image<float, VDimension>::Pointer &         image,
               typename itk::Image<unsigned char, VDimension>::Pointer & mask,
               const AugmentationParameters &                            parameters,
               const IntensityRange &                                    range,
               RandomStream                                              stream);

extern template void
AugmentScanner<2>(itk::Image<float, 2>::Pointer &,
                  itk::Image<unsigned char, 2>::Pointer &,
                  const AugmentationParameters &,
                  const IntensityRange &,
                  RandomStream);
extern template void
AugmentScanner<3>(itk::Image<float, 3>::Pointer &,
                  itk::Image<unsigned char, 3>::Pointer &,
                  const AugmentationParameters &,
                  const IntensityRange &,
                  RandomStream);

} // namespace nsa

#endif
