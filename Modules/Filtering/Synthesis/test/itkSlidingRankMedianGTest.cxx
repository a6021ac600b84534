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

#include <algorithm>
#include <cstring>
#include <vector>

namespace
{

// The definition, voxel by voxel: gather the (2r+1)^D window with clamped (replicated)
// indices and take the element of rank n/2 with std::nth_element.
template <typename TPixel, unsigned int VDimension>
TPixel
BruteForceMedian(const itk::Image<TPixel, VDimension> * image, const itk::Index<VDimension> & center, long radius)
{
  const auto          region = image->GetBufferedRegion();
  std::vector<TPixel> window;
  itk::Index<VDimension> index;
  long                   total = 1;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    total *= 2 * radius + 1;
  }
  for (long n = 0; n < total; ++n)
  {
    long rest = n;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const long d = rest % (2 * radius + 1) - radius;
      rest /= 2 * radius + 1;
      const long first = region.GetIndex()[axis];
      const long last = first + static_cast<long>(region.GetSize()[axis]) - 1;
      index[axis] = std::min(last, std::max(first, center[axis] + d));
    }
    window.push_back(image->GetPixel(index));
  }
  std::nth_element(window.begin(), window.begin() + total / 2, window.end());
  return window[static_cast<std::size_t>(total / 2)];
}

enum class Values
{
  Ties,    // a third zeros, -0.0f among them, a few repeated values, negatives
  Sparse,  // the label's case: non-negative changes inside blobs, zeros elsewhere
  Distinct // all different, many 64-rank blocks between neighbouring medians
};

template <unsigned int VDimension>
void
CompareWithBruteForce(const itk::Size<VDimension> & size, unsigned int radius, Values values, bool masked, uint64_t seed)
{
  using ImageType = itk::Image<float, VDimension>;
  using MaskType = itk::Image<unsigned char, VDimension>;
  typename ImageType::IndexType start;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    start[axis] = 3 - static_cast<long>(axis); // a region that does not start at 0
  }
  const typename ImageType::RegionType region(start, size);
  auto                                 image = ImageType::New();
  image->SetRegions(region);
  image->Allocate();
  auto mask = MaskType::New();
  mask->SetRegions(region);
  mask->Allocate();
  nsa::RandomStream                   stream(seed, radius, static_cast<uint64_t>(values), nsa::RandomPurpose::Test);
  itk::ImageRegionIterator<ImageType> it(image, region);
  itk::ImageRegionIterator<MaskType>  m(mask, region);
  for (; !it.IsAtEnd(); ++it, ++m)
  {
    const auto   index = it.GetIndex();
    const double u = stream.Uniform();
    float        value = 0.0f;
    switch (values)
    {
      case Values::Ties:
        value = u < 0.2 ? 0.0f : (u < 0.33 ? -0.0f : (u < 0.45 ? 1.5f : static_cast<float>(stream.Normal(0.5, 2.0))));
        break;
      case Values::Sparse:
      {
        // Changes inside a disc (ball) around the centre, zeros outside and in holes.
        double distance = 0.0;
        for (unsigned int axis = 0; axis < VDimension; ++axis)
        {
          const double c = (index[axis] - start[axis]) / static_cast<double>(size[axis]) - 0.5;
          distance += c * c;
        }
        value = distance < 0.12 && u > 0.1 ? static_cast<float>(stream.Uniform(0.0, 0.3)) : 0.0f;
        break;
      }
      case Values::Distinct:
        value = static_cast<float>(stream.Normal(100.0, 40.0));
        break;
    }
    it.Set(value);
    m.Set(stream.Bernoulli(0.6) ? 1 : 0);
  }
  const auto ours = itk::SlidingRankMedian<VDimension>(image, masked ? mask.GetPointer() : nullptr, radius);
  itk::ImageRegionConstIterator<ImageType> o(ours, region);
  itk::ImageRegionConstIterator<MaskType>  w(mask, region);
  for (; !o.IsAtEnd(); ++o, ++w)
  {
    if (masked && !w.Get())
    {
      ASSERT_EQ(o.Get(), 0.0f) << o.GetIndex();
      continue;
    }
    const float expected = BruteForceMedian<float, VDimension>(image, o.GetIndex(), radius);
    // Equal values, and the same bits except for the sign of a zero (-0 and +0 are one value).
    ASSERT_EQ(o.Get(), expected) << "at " << o.GetIndex() << " radius " << radius;
    if (expected != 0.0f)
    {
      ASSERT_EQ(std::memcmp(&expected, &o.Value(), sizeof(float)), 0) << o.GetIndex();
    }
  }
}

} // namespace

TEST(SlidingRankMedian, EqualsBruteForce2D)
{
  for (unsigned int radius : { 1u, 2u, 3u, 5u })
  {
    for (Values values : { Values::Ties, Values::Sparse, Values::Distinct })
    {
      CompareWithBruteForce<2>(itk::Size<2>{ { 41, 23 } }, radius, values, false, 1);
      CompareWithBruteForce<2>(itk::Size<2>{ { 41, 23 } }, radius, values, true, 2);
    }
  }
  // Thin and tiny images: the window is larger than the image along one or both axes.
  CompareWithBruteForce<2>(itk::Size<2>{ { 1, 30 } }, 5, Values::Ties, false, 3);
  CompareWithBruteForce<2>(itk::Size<2>{ { 30, 2 } }, 5, Values::Distinct, true, 4);
  CompareWithBruteForce<2>(itk::Size<2>{ { 3, 3 } }, 5, Values::Ties, false, 5);
  // Many distinct values: neighbouring medians many 64-rank blocks apart.
  CompareWithBruteForce<2>(itk::Size<2>{ { 150, 40 } }, 5, Values::Distinct, false, 6);
}

TEST(SlidingRankMedian, EqualsBruteForce3D)
{
  for (unsigned int radius : { 1u, 2u, 3u })
  {
    for (Values values : { Values::Ties, Values::Sparse, Values::Distinct })
    {
      CompareWithBruteForce<3>(itk::Size<3>{ { 13, 9, 7 } }, radius, values, false, 7);
      CompareWithBruteForce<3>(itk::Size<3>{ { 13, 9, 7 } }, radius, values, true, 8);
    }
  }
  CompareWithBruteForce<3>(itk::Size<3>{ { 2, 1, 9 } }, 2, Values::Ties, false, 9);
}

// The 8-bit form: a 0/1 image takes the box-count path, any other the histogram path; both
// equal the definition.
TEST(SlidingRankMedian, EightBitEqualsBruteForce)
{
  for (unsigned int levels : { 2u, 7u })
  {
    for (unsigned int radius : { 1u, 2u, 4u })
    {
      using MaskType2 = itk::Image<unsigned char, 2>;
      using MaskType3 = itk::Image<unsigned char, 3>;
      auto image2 = MaskType2::New();
      image2->SetRegions(itk::ImageRegion<2>(itk::Index<2>{ { -1, 2 } }, itk::Size<2>{ { 29, 17 } }));
      image2->Allocate();
      auto image3 = MaskType3::New();
      image3->SetRegions(itk::Size<3>{ { 11, 6, 9 } });
      image3->Allocate();
      nsa::RandomStream stream(levels, radius, 0, nsa::RandomPurpose::Test);
      for (itk::ImageRegionIterator<MaskType2> it(image2, image2->GetBufferedRegion()); !it.IsAtEnd(); ++it)
      {
        it.Set(static_cast<unsigned char>(stream.UniformInteger(0, levels - 1)));
      }
      for (itk::ImageRegionIterator<MaskType3> it(image3, image3->GetBufferedRegion()); !it.IsAtEnd(); ++it)
      {
        it.Set(static_cast<unsigned char>(stream.UniformInteger(0, levels - 1)));
      }
      const auto ours2 = itk::SlidingRankMedian<2>(image2.GetPointer(), radius);
      for (itk::ImageRegionConstIterator<MaskType2> o(ours2, image2->GetBufferedRegion()); !o.IsAtEnd(); ++o)
      {
        ASSERT_EQ(o.Get(), (BruteForceMedian<unsigned char, 2>(image2, o.GetIndex(), radius))) << o.GetIndex();
      }
      const auto ours3 = itk::SlidingRankMedian<3>(image3.GetPointer(), radius);
      for (itk::ImageRegionConstIterator<MaskType3> o(ours3, image3->GetBufferedRegion()); !o.IsAtEnd(); ++o)
      {
        ASSERT_EQ(o.Get(), (BruteForceMedian<unsigned char, 3>(image3, o.GetIndex(), radius))) << o.GetIndex();
      }
    }
  }
}
