#ifndef nsaResampling_h
#define nsaResampling_h

#include "itkImage.h"

#include <array>

namespace nsa
{

/** \file nsaResampling.h
 * \brief Resampling a study to the voxel spacing a model works at, and a score map back to
 * the study's exact grid (the nnU-Net convention: the network always sees one physical
 * scale, the user always gets the study's geometry). */

/** Resamples `image` to `spacing` (mm per ITK axis; a value <= 0 keeps that axis as it is)
 * over the same physical extent: the new size is round(size * old / new) (at least 1), the
 * extent's outer edges stay where they are, direction is kept. Intensities are linearly
 * interpolated; along an axis that gets coarser the image is first smoothed by a Gaussian
 * whose full width at half maximum is sqrt(new² − old²), so that the coarse voxels average
 * what they cover instead of aliasing. An axis whose spacing already matches (within 1e-6
 * relative) is not touched; when no axis changes, the input itself is returned. */
itk::Image<float, 3>::Pointer
ResampleToSpacing(const itk::Image<float, 3> * image, const std::array<double, 3> & spacing);

/** Resamples `image` onto the grid of `reference` (size, origin, spacing, direction) with
 * linear interpolation; points beyond the image's outermost voxel centres take the nearest
 * voxel's value. */
itk::Image<float, 3>::Pointer
ResampleOnto(const itk::Image<float, 3> * image, const itk::ImageBase<3> * reference);

} // namespace nsa

#endif
