#ifndef nsaTensorBridge_h
#define nsaTensorBridge_h

// Internal header of the Learning module (includes ATen): only src/ and test/ include it.

#include "itkImage.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace nsa
{

/** \file nsaTensorBridge.h
 * \brief Conversions between ITK images and LibTorch tensors.
 *
 * An ITK buffer is x-fastest, so a VDimension image of size (x, y[, z]) maps to the C-order
 * (row-major) tensor sizes {y, x} or {z, y, x}: tensor layouts are [N, C, H, W] in 2D and
 * [N, C, D, H, W] in 3D with W = x, H = y, D = z. The tensors returned here own their memory
 * (a copy of the ITK buffer), so they outlive the image; float32 on the CPU.
 */

/** One image as a [1, 1, spatial...] tensor. */
template <unsigned int VDimension>
at::Tensor
ImageToTensor(const itk::Image<float, VDimension> * image);

/** Channels of one case (same size each; throws nsa::InputError otherwise) as a
 * [1, C, spatial...] tensor. */
template <unsigned int VDimension>
at::Tensor
ImagesToTensor(const std::vector<const itk::Image<float, VDimension> *> & channels);

/** A tensor of numel equal to the reference's pixel count, in C order with x fastest
 * (leading dimensions of size 1 allowed, e.g. [1, 1, z, y, x]), copied into a new image with
 * the reference's largest region, origin, spacing and direction. Any device and floating
 * type; converted to float32. Throws nsa::InputError when the trailing sizes do not match the
 * reference's size. */
template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
TensorToImage(const at::Tensor & tensor, const itk::ImageBase<VDimension> * reference);

/** Pads the trailing `spatialDimensions` axes of `tensor` with `value`, centred, to the next
 * multiples of `multiple` (at least `minimum[i]` when given, in tensor axis order). Returns
 * the padded tensor; `before` receives the padding added in front of each spatial axis. */
at::Tensor
PadSpatialCentred(const at::Tensor &          tensor,
                  unsigned int                spatialDimensions,
                  std::int64_t                multiple,
                  double                      value,
                  std::vector<std::int64_t> & before,
                  const std::vector<std::int64_t> & minimum = {});

/** Undoes PadSpatialCentred: the trailing axes cropped to `sizes` starting at `before`. */
at::Tensor
CropSpatial(const at::Tensor & tensor, const std::vector<std::int64_t> & before, const std::vector<std::int64_t> & sizes);

extern template at::Tensor
ImageToTensor<2>(const itk::Image<float, 2> *);
extern template at::Tensor
ImageToTensor<3>(const itk::Image<float, 3> *);
extern template at::Tensor
ImagesToTensor<2>(const std::vector<const itk::Image<float, 2> *> &);
extern template at::Tensor
ImagesToTensor<3>(const std::vector<const itk::Image<float, 3> *> &);
extern template itk::Image<float, 2>::Pointer
TensorToImage<2>(const at::Tensor &, const itk::ImageBase<2> *);
extern template itk::Image<float, 3>::Pointer
TensorToImage<3>(const at::Tensor &, const itk::ImageBase<3> *);

} // namespace nsa

#endif
