// Tests of resampling to a model's spacing and back (nsa::ResampleToSpacing, nsa::ResampleOnto).

#include "nsaResampling.h"

#include "itkImageRegionIteratorWithIndex.h"

#include "gtest/gtest.h"

#include <cmath>

namespace
{

using ImageType = itk::Image<float, 3>;

/** A smooth field f(p) = sin(p_x / 9) cos(p_y / 11) + p_z / 50 of the physical point, on a
 * grid with the given size and spacing, an origin off zero and an oblique direction. */
ImageType::Pointer
MakeField(const itk::Size<3> & size, const ImageType::SpacingType & spacing)
{
  auto image = ImageType::New();
  image->SetRegions(ImageType::RegionType(size));
  image->SetSpacing(spacing);
  ImageType::PointType origin;
  origin[0] = -40.0;
  origin[1] = 12.5;
  origin[2] = 3.0;
  image->SetOrigin(origin);
  ImageType::DirectionType direction;
  direction.SetIdentity();
  const double c = std::cos(0.3), s = std::sin(0.3);
  direction(0, 0) = c;
  direction(0, 1) = -s;
  direction(1, 0) = s;
  direction(1, 1) = c;
  image->SetDirection(direction);
  image->Allocate();
  for (itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    ImageType::PointType p;
    image->TransformIndexToPhysicalPoint(it.GetIndex(), p);
    it.Set(static_cast<float>(std::sin(p[0] / 9.0) * std::cos(p[1] / 11.0) + p[2] / 50.0));
  }
  return image;
}

/** The physical extent's corner (edge of the first voxel). */
ImageType::PointType
Corner(const ImageType * image)
{
  itk::ContinuousIndex<double, 3> index;
  index.Fill(-0.5);
  ImageType::PointType p;
  image->TransformContinuousIndexToPhysicalPoint(index, p);
  return p;
}

} // namespace

TEST(Resampling, ToSpacingKeepsExtentAndDirection)
{
  ImageType::SpacingType spacing;
  spacing[0] = 1.0;
  spacing[1] = 1.0;
  spacing[2] = 2.5;
  const auto image = MakeField(itk::Size<3>{ { 60, 50, 12 } }, spacing);
  const auto coarse = nsa::ResampleToSpacing(image.GetPointer(), { 2.0, 0.5, 0.0 });
  EXPECT_EQ(coarse->GetLargestPossibleRegion().GetSize(), (itk::Size<3>{ { 30, 100, 12 } }));
  EXPECT_DOUBLE_EQ(coarse->GetSpacing()[0], 2.0);
  EXPECT_DOUBLE_EQ(coarse->GetSpacing()[1], 0.5);
  EXPECT_DOUBLE_EQ(coarse->GetSpacing()[2], 2.5); // 0: kept
  EXPECT_EQ(coarse->GetDirection(), image->GetDirection());
  const auto a = Corner(image.GetPointer()), b = Corner(coarse.GetPointer());
  for (unsigned int i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(a[i], b[i], 1e-9); // the extent's edges stay where they are
  }
}

TEST(Resampling, ValuesFollowThePhysicalPoint)
{
  ImageType::SpacingType spacing;
  spacing.Fill(1.0);
  const auto image = MakeField(itk::Size<3>{ { 48, 48, 24 } }, spacing);
  // Finer: linear interpolation of a smooth field, error bounded by h^2 max|f''| / 8 with
  // h = 1 mm and |f''| <= 1/81 + 1/121: about 3e-3.
  const auto fine = nsa::ResampleToSpacing(image.GetPointer(), { 0.5, 0.5, 0.5 });
  double     worst = 0.0;
  for (itk::ImageRegionIteratorWithIndex<ImageType> it(fine, fine->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    bool       interior = true;
    for (unsigned int a = 0; a < 3; ++a)
    {
      interior = interior && index[a] > 0 && index[a] + 1 < static_cast<long>(fine->GetLargestPossibleRegion().GetSize()[a]);
    }
    if (!interior)
    {
      continue;
    }
    ImageType::PointType p;
    fine->TransformIndexToPhysicalPoint(index, p);
    const double expected = std::sin(p[0] / 9.0) * std::cos(p[1] / 11.0) + p[2] / 50.0;
    worst = std::max(worst, std::abs(it.Get() - expected));
  }
  EXPECT_LT(worst, 4e-3);
}

TEST(Resampling, RoundTripOntoTheStudysGrid)
{
  ImageType::SpacingType spacing;
  spacing.Fill(1.0);
  const auto image = MakeField(itk::Size<3>{ { 40, 44, 20 } }, spacing);
  const auto coarse = nsa::ResampleToSpacing(image.GetPointer(), { 2.0, 2.0, 0.0 });
  const auto back = nsa::ResampleOnto(coarse.GetPointer(), image.GetPointer());
  EXPECT_EQ(back->GetLargestPossibleRegion(), image->GetLargestPossibleRegion());
  EXPECT_EQ(back->GetOrigin(), image->GetOrigin());
  EXPECT_EQ(back->GetSpacing(), image->GetSpacing());
  EXPECT_EQ(back->GetDirection(), image->GetDirection());
  // The field varies on a ~60 mm scale: 2 mm sampling with anti-aliasing loses little.
  double sum = 0.0;
  const std::size_t n = image->GetLargestPossibleRegion().GetNumberOfPixels();
  for (std::size_t i = 0; i < n; ++i)
  {
    sum += std::abs(back->GetBufferPointer()[i] - image->GetBufferPointer()[i]);
  }
  EXPECT_LT(sum / n, 0.02);
}

TEST(Resampling, MatchingSpacingReturnsTheInput)
{
  ImageType::SpacingType spacing;
  spacing.Fill(1.0);
  const auto image = MakeField(itk::Size<3>{ { 8, 8, 8 } }, spacing);
  EXPECT_EQ(nsa::ResampleToSpacing(image.GetPointer(), { 1.0, 0.0, 1.0 }).GetPointer(), image.GetPointer());
  EXPECT_THROW(nsa::ResampleToSpacing(image.GetPointer(), { 1e-6, 1.0, 1.0 }), std::exception);
}
