// Test helper of NSASynthesize's end-to-end tests: checks that an anomalous image and its
// label keep the reference's geometry (or, for --slice_axis, the in-plane size and spacing
// of its slice), that the label lies in [0, 1] and is non-zero somewhere, and that the image
// differs from the reference somewhere.
//
//   NSASynthesizeCheck <reference> <image> <label> [slice_axis]

#include "nsaError.h"
#include "nsaImageIO.h"

#include "itkImageRegionConstIterator.h"

#include <cmath>
#include <iostream>
#include <string>

namespace
{

template <unsigned int VDimension>
int
CheckLabel(const std::string & labelPath, const std::string & imagePath)
{
  auto   label = nsa::ReadImage<itk::Image<float, VDimension>>(labelPath);
  double maximum = 0.0, minimum = 0.0;
  itk::ImageRegionConstIterator<itk::Image<float, VDimension>> it(label, label->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    maximum = std::max(maximum, static_cast<double>(it.Get()));
    minimum = std::min(minimum, static_cast<double>(it.Get()));
  }
  if (minimum < 0.0 || maximum > 1.0 || !(maximum > 0.0))
  {
    std::cerr << labelPath << ": label range [" << minimum << ", " << maximum << "], expected within [0, 1] and not all 0\n";
    return 1;
  }
  (void)imagePath;
  return 0;
}

template <unsigned int VDimension>
bool
SameGeometry(const itk::ImageBase<VDimension> * a, const itk::ImageBase<VDimension> * b)
{
  const double tolerance = 1e-5;
  return a->GetLargestPossibleRegion().GetSize() == b->GetLargestPossibleRegion().GetSize() &&
         a->GetSpacing().GetVnlVector().is_equal(b->GetSpacing().GetVnlVector(), tolerance) &&
         a->GetOrigin().GetVnlVector().is_equal(b->GetOrigin().GetVnlVector(), tolerance) &&
         a->GetDirection().GetVnlMatrix().is_equal(b->GetDirection().GetVnlMatrix(), tolerance);
}

} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 4)
  {
    std::cerr << "usage: " << argv[0] << " <reference> <image> <label> [slice_axis]\n";
    return 2;
  }
  const std::string reference = argv[1], imagePath = argv[2], labelPath = argv[3];
  const int         axis = argc > 4 ? std::stoi(argv[4]) : -1;
  try
  {
    const auto info = nsa::ReadImageInfo(reference);
    if (axis < 0 && info.dimension == 3)
    {
      auto ref = nsa::ReadImage<itk::Image<float, 3>>(reference);
      auto image = nsa::ReadImage<itk::Image<float, 3>>(imagePath);
      auto label = nsa::ReadImage<itk::Image<float, 3>>(labelPath);
      if (!SameGeometry<3>(ref, image) || !SameGeometry<3>(ref, label))
      {
        std::cerr << "geometry differs from " << reference << "\n";
        return 1;
      }
      bool changed = false;
      itk::ImageRegionConstIterator<itk::Image<float, 3>> a(ref, ref->GetLargestPossibleRegion());
      itk::ImageRegionConstIterator<itk::Image<float, 3>> b(image, ref->GetLargestPossibleRegion());
      for (; !a.IsAtEnd() && !changed; ++a, ++b)
      {
        changed = a.Get() != b.Get();
      }
      if (!changed)
      {
        std::cerr << imagePath << " equals the reference\n";
        return 1;
      }
      return CheckLabel<3>(labelPath, imagePath);
    }
    const auto imageInfo = nsa::ReadImageInfo(imagePath);
    const auto labelInfo = nsa::ReadImageInfo(labelPath);
    std::vector<std::size_t> expected = info.size;
    std::vector<double>      spacing = info.spacing;
    if (axis >= 0)
    {
      expected.erase(expected.begin() + axis);
      spacing.erase(spacing.begin() + axis);
    }
    if (imageInfo.size != expected || labelInfo.size != expected)
    {
      std::cerr << "size differs from the reference (slice)\n";
      return 1;
    }
    for (std::size_t i = 0; i < spacing.size(); ++i)
    {
      if (std::abs(imageInfo.spacing[i] - spacing[i]) > 1e-5 || std::abs(labelInfo.spacing[i] - spacing[i]) > 1e-5)
      {
        std::cerr << "spacing differs from the reference (slice)\n";
        return 1;
      }
    }
    if (labelInfo.pixelType != "float")
    {
      return 0; // an 8-bit PNG label: the range is checked by the format
    }
    return CheckLabel<2>(labelPath, imagePath);
  }
  catch (const std::exception & error)
  {
    std::cerr << error.what() << "\n";
    return 1;
  }
}
