#include "nsaTensorBridge.h"

#include "nsaError.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cstring>
#include <sstream>

namespace nsa
{

namespace
{

template <unsigned int VDimension>
std::vector<std::int64_t>
TensorSizes(const itk::Size<VDimension> & size)
{
  std::vector<std::int64_t> sizes(VDimension);
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    sizes[VDimension - 1 - axis] = static_cast<std::int64_t>(size[axis]);
  }
  return sizes;
}

template <unsigned int VDimension>
void
CheckBuffered(const itk::Image<float, VDimension> * image, const char * what)
{
  if (image == nullptr)
  {
    throw InputError(std::string(what) + ": no image");
  }
  if (image->GetBufferedRegion() != image->GetLargestPossibleRegion() ||
      image->GetBufferedRegion().GetNumberOfPixels() == 0)
  {
    throw InputError(std::string(what) + ": the image is empty or not fully buffered (call Update() first)");
  }
}

} // namespace

template <unsigned int VDimension>
at::Tensor
ImageToTensor(const itk::Image<float, VDimension> * image)
{
  return ImagesToTensor<VDimension>({ image });
}

template <unsigned int VDimension>
at::Tensor
ImagesToTensor(const std::vector<const itk::Image<float, VDimension> *> & channels)
{
  if (channels.empty())
  {
    throw InputError("image to tensor: no channels");
  }
  CheckBuffered(channels[0], "image to tensor");
  const auto size = channels[0]->GetBufferedRegion().GetSize();
  std::vector<std::int64_t> sizes = TensorSizes<VDimension>(size);
  sizes.insert(sizes.begin(), { 1, static_cast<std::int64_t>(channels.size()) });
  at::Tensor tensor = at::empty(sizes, at::TensorOptions().dtype(at::kFloat));
  const std::size_t count = channels[0]->GetBufferedRegion().GetNumberOfPixels();
  for (std::size_t c = 0; c < channels.size(); ++c)
  {
    CheckBuffered(channels[c], "image to tensor");
    if (channels[c]->GetBufferedRegion().GetSize() != size)
    {
      std::ostringstream message;
      message << "image to tensor: channel " << c << " has size " << channels[c]->GetBufferedRegion().GetSize()
              << ", channel 0 has size " << size;
      throw InputError(message.str());
    }
    std::memcpy(tensor.data_ptr<float>() + c * count, channels[c]->GetBufferPointer(), count * sizeof(float));
  }
  return tensor;
}

template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
TensorToImage(const at::Tensor & tensor, const itk::ImageBase<VDimension> * reference)
{
  if (reference == nullptr)
  {
    throw InputError("tensor to image: no reference image");
  }
  const auto region = reference->GetLargestPossibleRegion();
  const std::vector<std::int64_t> expected = TensorSizes<VDimension>(region.GetSize());
  const auto sizes = tensor.sizes();
  bool matches = tensor.dim() >= static_cast<std::int64_t>(VDimension);
  for (std::int64_t axis = 0; matches && axis < tensor.dim(); ++axis)
  {
    const std::int64_t fromEnd = tensor.dim() - 1 - axis;
    if (fromEnd < static_cast<std::int64_t>(VDimension))
    {
      matches = sizes[axis] == expected[VDimension - 1 - fromEnd];
    }
    else
    {
      matches = sizes[axis] == 1;
    }
  }
  if (!matches)
  {
    std::ostringstream message;
    message << "tensor to image: tensor sizes " << sizes << " do not match the reference image size "
            << region.GetSize() << " (expected trailing sizes " << at::IntArrayRef(expected) << ")";
    throw InputError(message.str());
  }
  const at::Tensor contiguous = tensor.detach().to(at::kCPU, at::kFloat).contiguous();

  auto image = itk::Image<float, VDimension>::New();
  image->SetRegions(region);
  image->SetOrigin(reference->GetOrigin());
  image->SetSpacing(reference->GetSpacing());
  image->SetDirection(reference->GetDirection());
  image->Allocate();
  std::memcpy(image->GetBufferPointer(), contiguous.data_ptr<float>(), region.GetNumberOfPixels() * sizeof(float));
  return image;
}

at::Tensor
PadSpatialCentred(const at::Tensor &                tensor,
                  unsigned int                      spatialDimensions,
                  std::int64_t                      multiple,
                  double                            value,
                  std::vector<std::int64_t> &       before,
                  const std::vector<std::int64_t> & minimum)
{
  const std::int64_t first = tensor.dim() - spatialDimensions;
  before.assign(spatialDimensions, 0);
  // constant_pad_nd takes (front, back) pairs starting from the last axis.
  std::vector<std::int64_t> pad(2 * spatialDimensions, 0);
  bool any = false;
  for (unsigned int i = 0; i < spatialDimensions; ++i)
  {
    const std::int64_t size = tensor.size(first + i);
    std::int64_t target = std::max<std::int64_t>(size, minimum.empty() ? 0 : minimum[i]);
    target = (target + multiple - 1) / multiple * multiple;
    const std::int64_t total = target - size;
    before[i] = total / 2;
    pad[2 * (spatialDimensions - 1 - i)] = before[i];
    pad[2 * (spatialDimensions - 1 - i) + 1] = total - before[i];
    any = any || total > 0;
  }
  return any ? at::constant_pad_nd(tensor, pad, value) : tensor;
}

at::Tensor
CropSpatial(const at::Tensor & tensor, const std::vector<std::int64_t> & before, const std::vector<std::int64_t> & sizes)
{
  at::Tensor result = tensor;
  const std::int64_t first = tensor.dim() - static_cast<std::int64_t>(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i)
  {
    result = result.narrow(first + static_cast<std::int64_t>(i), before[i], sizes[i]);
  }
  return result;
}

template at::Tensor
ImageToTensor<2>(const itk::Image<float, 2> *);
template at::Tensor
ImageToTensor<3>(const itk::Image<float, 3> *);
template at::Tensor
ImagesToTensor<2>(const std::vector<const itk::Image<float, 2> *> &);
template at::Tensor
ImagesToTensor<3>(const std::vector<const itk::Image<float, 3> *> &);
template itk::Image<float, 2>::Pointer
TensorToImage<2>(const at::Tensor &, const itk::ImageBase<2> *);
template itk::Image<float, 3>::Pointer
TensorToImage<3>(const at::Tensor &, const itk::ImageBase<3> *);

} // namespace nsa
