#include "nsaOverlay.h"

#include "nsaError.h"
#include "nsaIOTestData.h"
#include "nsaImageIO.h"

#include "itkImageFileReader.h"
#include "itkRGBPixel.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;
using FloatImage3 = itk::Image<float, 3>;
using RgbImage = itk::Image<itk::RGBPixel<unsigned char>, 2>;

namespace
{
const std::string Colin27 = std::string(NSA_EXTERNAL_DATA_DIR) + "/mricron/templates/ch2.nii.gz";

/** Map of 0.5 in a cube around `centre` (half-width 8 voxels), 0 elsewhere. */
FloatImage3::Pointer
CubeMap(const FloatImage3 * image, const itk::Index<3> & centre)
{
  auto map = FloatImage3::New();
  map->CopyInformation(image);
  map->SetRegions(image->GetLargestPossibleRegion());
  map->Allocate(true);
  for (int z = -8; z <= 8; ++z)
    for (int y = -8; y <= 8; ++y)
      for (int x = -8; x <= 8; ++x)
        map->SetPixel({ { centre[0] + x, centre[1] + y, centre[2] + z } }, 0.5f);
  return map;
}

RgbImage::Pointer
ReadRgb(const std::string & path)
{
  auto reader = itk::ImageFileReader<RgbImage>::New();
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}
} // namespace

TEST(Overlay, Colormaps)
{
  EXPECT_EQ(nsa::ColormapRgb("hot", 0.0), (std::vector<unsigned char>{ 0, 0, 0 }));
  EXPECT_EQ(nsa::ColormapRgb("hot", 1.0), (std::vector<unsigned char>{ 255, 255, 255 }));
  EXPECT_EQ(nsa::ColormapRgb("hot", 1.0 / 3.0), (std::vector<unsigned char>{ 255, 0, 0 }));
  EXPECT_EQ(nsa::ColormapRgb("jet", 0.5), (std::vector<unsigned char>{ 128, 255, 128 }));
  EXPECT_EQ(nsa::ColormapRgb("viridis", 0.0), (std::vector<unsigned char>{ 68, 1, 84 }));
  EXPECT_EQ(nsa::ColormapRgb("viridis", 1.0), (std::vector<unsigned char>{ 253, 231, 37 }));
  EXPECT_THROW(nsa::ColormapRgb("rainbow", 0.5), nsa::ParameterError);
}

TEST(Overlay, Colin27SliceAndMontage)
{
  const auto         image = nsa::ReadImage<FloatImage3>(Colin27);
  const itk::Index<3> centre{ { 60, 120, 100 } };
  const auto         map = CubeMap(image.GetPointer(), centre);

  // Automatic slice: the one through the cube (largest map sum; ties go to the first).
  const std::string single = nsa::test::OutputPath("overlay-colin27.png");
  nsa::WriteOverlayPng(image.GetPointer(), map.GetPointer(), single);
  const auto rgb = ReadRgb(single);
  EXPECT_EQ(rgb->GetLargestPossibleRegion().GetSize(), (RgbImage::SizeType{ { 181, 217 } }));
  // Colin27 is stored RAS (sform identity), i.e. direction diag(-1, -1, 1) in ITK's LPS:
  // radiological display flips x (patient's left on the right) and y (anterior up).
  ASSERT_EQ(image->GetDirection()(0, 0), -1.0);
  ASSERT_EQ(image->GetDirection()(1, 1), -1.0);
  const itk::Index<2> screen{ { 180 - centre[0], 216 - centre[1] } };
  const auto          inside = rgb->GetPixel(screen);
  const auto outside = rgb->GetPixel({ { 120, 60 } });
  EXPECT_EQ(outside[0], outside[1]); // grey outside the map
  EXPECT_EQ(outside[1], outside[2]);
  EXPECT_GT(inside[0], inside[2]); // hot(0.5) = (255, 128, 0) blended at opacity 0.6 * 0.5
  nsa::OverlayOptions options;
  options.opacity = 1.0;
  options.colormap = "viridis";
  nsa::WriteOverlayPng(image.GetPointer(), map.GetPointer(), single, options);
  const auto opaque = ReadRgb(single)->GetPixel(screen);
  // Opacity 1 * t = 0.5: half viridis(0.5) = (33, 145, 140), half the grey level g.
  EXPECT_NEAR(opaque[1] - opaque[0], (145 - 33) / 2.0, 1.0); // the grey cancels; rounding: 1
  EXPECT_NEAR(opaque[1] - opaque[2], (145 - 140) / 2.0, 1.0);

  const std::string montage = nsa::test::OutputPath("overlay-colin27-montage.png");
  options = nsa::OverlayOptions();
  options.montage = true;
  options.montageSlices = 9;
  nsa::WriteOverlayPng(image.GetPointer(), map.GetPointer(), montage, options);
  // 3 x 3 tiles with 2-pixel borders.
  EXPECT_EQ(ReadRgb(montage)->GetLargestPossibleRegion().GetSize(),
            (RgbImage::SizeType{ { 3 * 181 + 4, 3 * 217 + 4 } }));

  const std::string coronal = nsa::test::OutputPath("overlay-colin27-coronal.png");
  options = nsa::OverlayOptions();
  options.axis = 1;
  options.slice = static_cast<int>(centre[1]);
  nsa::WriteOverlayPng(image.GetPointer(), map.GetPointer(), coronal, options);
  const auto coronalRgb = ReadRgb(coronal);
  EXPECT_EQ(coronalRgb->GetLargestPossibleRegion().GetSize(), (RgbImage::SizeType{ { 181, 181 } }));
  // Superior up (z = 100 on row 180 - 100), patient's left on the right (x flipped).
  const auto coronalInside = coronalRgb->GetPixel({ { 180 - centre[0], 180 - centre[2] } });
  EXPECT_NE(coronalInside[0], coronalInside[2]);
}

TEST(Overlay, TwoDimensional)
{
  using FloatImage2 = itk::Image<float, 2>;
  auto image = FloatImage2::New();
  image->SetRegions(FloatImage2::SizeType{ { 8, 6 } });
  image->Allocate();
  image->FillBuffer(0.5f);
  auto map = FloatImage2::New();
  map->SetRegions(image->GetLargestPossibleRegion());
  map->Allocate(true);
  map->SetPixel({ { 2, 3 } }, 1.0f);
  nsa::OverlayOptions options;
  options.window = { 0.0, 1.0 };
  options.opacity = 1.0;
  const std::string path = nsa::test::OutputPath("overlay-2d.png");
  nsa::WriteOverlayPng(image.GetPointer(), map.GetPointer(), path, options);
  const auto rgb = ReadRgb(path);
  EXPECT_EQ(rgb->GetPixel({ { 2, 3 } })[0], 255);
  EXPECT_EQ(rgb->GetPixel({ { 0, 0 } })[0], 128); // grey 0.5 in window [0, 1]
}

TEST(Overlay, Refusals)
{
  auto image = FloatImage3::New();
  image->SetRegions(FloatImage3::SizeType{ { 4, 4, 3 } });
  image->Allocate(true);
  auto other = FloatImage3::New();
  other->SetRegions(FloatImage3::SizeType{ { 4, 4, 2 } });
  other->Allocate(true);
  const std::string folder = nsa::test::FreshFolder("overlay-refusals");
  EXPECT_THROW(nsa::WriteOverlayPng(image.GetPointer(), other.GetPointer(), folder + "/a.png"), nsa::ParameterError);
  nsa::OverlayOptions options;
  options.slice = 3;
  EXPECT_THROW(nsa::WriteOverlayPng(image.GetPointer(), image.GetPointer(), folder + "/b.png", options),
               nsa::ParameterError);
  options = nsa::OverlayOptions();
  options.colormap = "plasma";
  EXPECT_THROW(nsa::WriteOverlayPng(image.GetPointer(), image.GetPointer(), folder + "/c.png", options),
               nsa::ParameterError);
  EXPECT_THROW(nsa::WriteOverlayPng(image.GetPointer(), image.GetPointer(), folder + "/missing/d.png"),
               nsa::OutputError);
  EXPECT_TRUE(fs::is_empty(folder));
}
