#include "nsaPicture.h"

#include "nsaError.h"
#include "nsaIOTestData.h"

#include "itkImageFileReader.h"
#include "itkRGBPixel.h"

#include "gtest/gtest.h"

#include <fstream>
#include <iterator>

namespace
{
using RgbImage = itk::Image<itk::RGBPixel<unsigned char>, 2>;
using GreyImage = itk::Image<unsigned char, 2>;

template <typename TImage>
typename TImage::Pointer
Read(const std::string & path)
{
  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

/** A 5 x 4 RGB picture whose pixel (x, y) is (10 x, 10 y, 7). */
nsa::Picture
Gradient()
{
  nsa::Picture picture(5, 4, 3);
  for (std::size_t y = 0; y < 4; ++y)
    for (std::size_t x = 0; x < 5; ++x)
      picture.Set(static_cast<long>(x), static_cast<long>(y),
                  { static_cast<unsigned char>(10 * x), static_cast<unsigned char>(10 * y), 7 });
  return picture;
}
} // namespace

TEST(Picture, WindowLevelClipsToTheWindow)
{
  EXPECT_DOUBLE_EQ(nsa::WindowLevel(5.0, 0.0, 10.0), 0.5);
  EXPECT_DOUBLE_EQ(nsa::WindowLevel(-3.0, 0.0, 10.0), 0.0);
  EXPECT_DOUBLE_EQ(nsa::WindowLevel(30.0, 0.0, 10.0), 1.0);
}

TEST(Picture, SetIgnoresPixelsOutsideAndGreyTakesTheFirstComponent)
{
  nsa::Picture grey(3, 2, 1, 9);
  grey.Set(-1, 0, { 1, 2, 3 });
  grey.Set(3, 1, { 1, 2, 3 });
  grey.Set(1, 1, { 200, 2, 3 });
  EXPECT_EQ(grey.Bytes(), (std::vector<unsigned char>{ 9, 9, 9, 9, 200, 9 }));
  EXPECT_THROW(nsa::Picture(2, 2, 2), nsa::ParameterError);
}

TEST(Picture, OutlineMarksTheLabelsBorderOnly)
{
  // A 3 x 3 square inside a 5 x 5 picture: its 8 border pixels, not its centre.
  std::vector<unsigned char> label(25, 0);
  for (int y = 1; y <= 3; ++y)
    for (int x = 1; x <= 3; ++x)
      label[y * 5 + x] = 1;
  nsa::Picture picture(5, 5, 3);
  picture.Outline(label.data(), { 0, 255, 0 });
  int marked = 0;
  for (std::size_t y = 0; y < 5; ++y)
    for (std::size_t x = 0; x < 5; ++x)
      marked += picture.At(x, y)[1] == 255;
  EXPECT_EQ(marked, 8);
  EXPECT_EQ(picture.At(2, 2)[1], 0);
  EXPECT_EQ(picture.At(1, 1)[1], 255);
}

TEST(Picture, FlipRowsTurnsUpsideDown)
{
  nsa::Picture picture = Gradient();
  picture.FlipRows();
  EXPECT_EQ(picture.At(2, 0)[1], 30);
  EXPECT_EQ(picture.At(2, 3)[1], 0);
}

TEST(Picture, TileLaysOutColumnsWithGaps)
{
  const std::vector<nsa::Picture> tiles(3, Gradient());
  const nsa::Picture              montage = nsa::Tile(tiles, 2, 2, 255);
  EXPECT_EQ(montage.Width(), 2u * 5 + 2);
  EXPECT_EQ(montage.Height(), 2u * 4 + 2);
  EXPECT_EQ(montage.At(5, 0)[0], 255);      // gap
  EXPECT_EQ(montage.At(7 + 4, 0)[0], 40);   // tile 1, x = 4
  EXPECT_EQ(montage.At(0, 6 + 3)[1], 30);   // tile 2, y = 3
  EXPECT_EQ(montage.At(11, 9)[0], 255);     // no tile 3: background
  EXPECT_THROW(nsa::Tile({ Gradient(), nsa::Picture(2, 2, 3) }, 2, 0, 0), nsa::ParameterError);
}

TEST(Picture, FileAndMemoryHoldTheSamePixels)
{
  const nsa::Picture picture = Gradient();
  const std::string  file = nsa::test::OutputPath("picture-file.png");
  nsa::WritePng(picture, file);
  const std::string memory = nsa::EncodePng(picture);
  const std::string memoryFile = nsa::test::OutputPath("picture-memory.png");
  std::ofstream(memoryFile, std::ios::binary) << memory;
  for (const std::string & path : { file, memoryFile })
  {
    const auto image = Read<RgbImage>(path);
    ASSERT_EQ(image->GetLargestPossibleRegion().GetSize(), (RgbImage::SizeType{ { 5, 4 } })) << path;
    const auto pixel = image->GetPixel({ { 3, 2 } });
    EXPECT_EQ(pixel[0], 30) << path;
    EXPECT_EQ(pixel[1], 20) << path;
    EXPECT_EQ(pixel[2], 7) << path;
  }
  nsa::Picture grey(4, 3, 1, 17);
  grey.Set(1, 2, { 99, 0, 0 });
  const std::string greyFile = nsa::test::OutputPath("picture-grey.png");
  std::ofstream(greyFile, std::ios::binary) << nsa::EncodePng(grey);
  const auto image = Read<GreyImage>(greyFile);
  EXPECT_EQ(image->GetPixel({ { 1, 2 } }), 99);
  EXPECT_EQ(image->GetPixel({ { 0, 0 } }), 17);
  EXPECT_THROW(nsa::EncodePng(nsa::Picture()), nsa::OutputError);
}
