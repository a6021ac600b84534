#include "itkSlidingRankMedian.h"

#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIterator.h"
#include "itkMedianImageFilter.h"
#include "nsaRandom.h"

#include <gtest/gtest.h>

namespace
{

// Exactly MedianImageFilter's output (bit for bit), on data with ties (a quarter zeros, a
// few repeated values), at the borders (replicated) and for several radii, in 2D and 3D.
template <unsigned int VDimension>
void
CompareWithMedianImageFilter(unsigned int size, unsigned int radius, bool masked)
{
  using ImageType = itk::Image<float, VDimension>;
  using MaskType = itk::Image<unsigned char, VDimension>;
  auto                         image = ImageType::New();
  typename ImageType::SizeType imageSize;
  imageSize.Fill(size);
  imageSize[0] = size + 3; // not a cube
  typename ImageType::IndexType start;
  start.Fill(-2); // a region that does not start at 0
  image->SetRegions(typename ImageType::RegionType(start, imageSize));
  image->Allocate();
  auto mask = MaskType::New();
  mask->SetRegions(image->GetBufferedRegion());
  mask->Allocate();
  nsa::RandomStream                   stream(radius, size, masked ? 1 : 0, nsa::RandomPurpose::Test);
  itk::ImageRegionIterator<ImageType> it(image, image->GetBufferedRegion());
  itk::ImageRegionIterator<MaskType>  m(mask, image->GetBufferedRegion());
  for (; !it.IsAtEnd(); ++it, ++m)
  {
    const double u = stream.Uniform();
    it.Set(u < 0.25 ? 0.0f : (u < 0.35 ? 1.5f : static_cast<float>(stream.Normal(3.0, 2.0))));
    m.Set(stream.Bernoulli(0.5) ? 1 : 0);
  }
  auto median = itk::MedianImageFilter<ImageType, ImageType>::New();
  median->SetInput(image);
  typename itk::MedianImageFilter<ImageType, ImageType>::InputSizeType medianRadius;
  medianRadius.Fill(radius);
  median->SetRadius(medianRadius);
  median->Update();
  const auto ours = itk::SlidingRankMedian<VDimension>(image, masked ? mask.GetPointer() : nullptr, radius);
  itk::ImageRegionConstIterator<ImageType> a(median->GetOutput(), image->GetBufferedRegion());
  itk::ImageRegionConstIterator<ImageType> b(ours, image->GetBufferedRegion());
  itk::ImageRegionConstIterator<MaskType>  w(mask, image->GetBufferedRegion());
  std::size_t                              compared = 0;
  for (; !a.IsAtEnd(); ++a, ++b, ++w)
  {
    if (!masked || w.Get())
    {
      ASSERT_EQ(a.Get(), b.Get());
      ++compared;
    }
    else
    {
      ASSERT_EQ(b.Get(), 0.0f);
    }
  }
  EXPECT_GT(compared, 0u);
}

} // namespace

TEST(SlidingRankMedian, EqualsMedianImageFilter2D)
{
  for (unsigned int radius : { 1u, 2u, 5u })
  {
    CompareWithMedianImageFilter<2>(37, radius, false);
    CompareWithMedianImageFilter<2>(37, radius, true);
  }
  CompareWithMedianImageFilter<2>(4, 5, false); // window larger than the image
}

TEST(SlidingRankMedian, EqualsMedianImageFilter3D)
{
  for (unsigned int radius : { 1u, 2u })
  {
    CompareWithMedianImageFilter<3>(15, radius, false);
    CompareWithMedianImageFilter<3>(15, radius, true);
  }
}

#include "itkBinaryMedianImageFilter.h"

// The 8-bit form on a 0/1 mask is BinaryMedianImageFilter's majority vote, borders included.
TEST(SlidingRankMedian, EqualsBinaryMedianImageFilter)
{
  using MaskType = itk::Image<unsigned char, 3>;
  auto mask = MaskType::New();
  mask->SetRegions(itk::Size<3>{ { 17, 13, 11 } });
  mask->Allocate();
  nsa::RandomStream                  stream(5, 0, 0, nsa::RandomPurpose::Test);
  itk::ImageRegionIterator<MaskType> it(mask, mask->GetBufferedRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    it.Set(stream.Bernoulli(0.55) ? 1 : 0);
  }
  for (unsigned int radius : { 1u, 2u })
  {
    auto binary = itk::BinaryMedianImageFilter<MaskType, MaskType>::New();
    binary->SetInput(mask);
    itk::Size<3> r;
    r.Fill(radius);
    binary->SetRadius(r);
    binary->SetForegroundValue(1);
    binary->SetBackgroundValue(0);
    binary->Update();
    const auto                              ours = itk::SlidingRankMedian<3>(mask.GetPointer(), radius);
    itk::ImageRegionConstIterator<MaskType> a(binary->GetOutput(), mask->GetBufferedRegion());
    itk::ImageRegionConstIterator<MaskType> b(ours, mask->GetBufferedRegion());
    for (; !a.IsAtEnd(); ++a, ++b)
    {
      ASSERT_EQ(a.Get(), b.Get());
    }
  }
}
