#include "nsaError.h"
#include "nsaPatchSampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace
{

template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
MakeImage(unsigned int size, double spacing = 1.0)
{
  using ImageType = itk::Image<float, VDimension>;
  auto                          image = ImageType::New();
  typename ImageType::SizeType  imageSize;
  imageSize.Fill(size);
  image->SetRegions(imageSize);
  typename ImageType::SpacingType imageSpacing;
  imageSpacing.Fill(spacing);
  image->SetSpacing(imageSpacing);
  image->Allocate();
  image->FillBuffer(0.0f);
  return image;
}

struct Moments
{
  double mean = 0.0;
  double variance = 0.0;
  std::size_t n = 0;
};

Moments
ComputeMoments(const std::vector<double> & values)
{
  Moments m;
  m.n = values.size();
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(m.n);
  for (double v : values)
  {
    m.variance += (v - m.mean) * (v - m.mean);
  }
  m.variance /= static_cast<double>(m.n - 1);
  return m;
}

} // namespace

// The half-width fraction is gamma_lower + Gamma(shape k, scale theta): mean lower + k theta,
// variance k theta^2. Tolerances are 5 standard errors: SE(mean) = sigma / sqrt(n); for the
// variance SE = sigma^2 sqrt((kurtosis - 1) / n) with the Gamma kurtosis 3 + 6 / k.
TEST(PatchSampler, GammaHalfWidthsFollowTheirDefinition)
{
  auto                     image = MakeImage<2>(1000);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.width_bounds = { 0.0, 1.0 };
  nsa::PatchSampler<2> sampler(p, image, image, nullptr, nullptr);
  std::vector<double>  fractions;
  std::size_t          checkedWidths = 0;
  for (std::uint64_t i = 0; i < 4000; ++i)
  {
    nsa::RandomStream stream(7, 0, i, nsa::RandomPurpose::Test);
    const auto        patches = sampler.Sample(stream, 1.0);
    ASSERT_EQ(patches.size(), 1u);
    const auto & record = patches[0].record;
    ASSERT_EQ(record.status, nsa::PatchStatus::Blended);
    for (unsigned int axis = 0; axis < 2; ++axis)
    {
      fractions.push_back(record.half_width_fraction[axis]);
      // A box that does not touch the image border is exactly 2 floor(f N) voxels wide.
      const auto first = record.source_index[axis];
      const auto last = first + record.source_size[axis];
      const auto halfWidth = static_cast<std::int64_t>(std::min(1.0, record.half_width_fraction[axis]) * 1000.0);
      if (first > 0 && last < 1000)
      {
        EXPECT_EQ(record.source_size[axis], 2 * halfWidth);
        ++checkedWidths;
      }
    }
  }
  EXPECT_GT(checkedWidths, 1000u);
  const Moments m = ComputeMoments(fractions);
  const double  k = p.gamma_shape, theta = p.gamma_scale;
  const double  sigma2 = k * theta * theta;
  EXPECT_NEAR(m.mean, p.gamma_lower + k * theta, 5.0 * std::sqrt(sigma2 / m.n));
  EXPECT_NEAR(m.variance, sigma2, 5.0 * sigma2 * std::sqrt((2.0 + 6.0 / k) / m.n));
  for (double f : fractions)
  {
    ASSERT_GE(f, p.gamma_lower);
  }
}

// The resize factor is Normal(1, sigma) before clipping; after clipping it lies in
// resize_bounds up to the rounding of the destination box to whole voxels (1 / m) when the
// width bounds do not bind.
TEST(PatchSampler, ResizeFactorFollowsItsDefinition)
{
  auto                     image = MakeImage<2>(512);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.width_bounds = { 0.0, 1.0 };
  p.gamma_lower = 0.05;
  p.gamma_scale = 0.02;
  nsa::PatchSampler<2> sampler(p, image, image, nullptr, nullptr);
  std::vector<double>  drawn;
  for (std::uint64_t i = 0; i < 4000; ++i)
  {
    nsa::RandomStream stream(11, 0, i, nsa::RandomPurpose::Test);
    const auto        record = sampler.Sample(stream, 1.0)[0].record;
    drawn.push_back(record.scale_drawn);
    const double rounding = 1.0 / static_cast<double>(record.destination_size[0]);
    EXPECT_GE(record.scale, p.resize_bounds[0] - rounding);
    EXPECT_LE(record.scale, p.resize_bounds[1] + rounding);
    // The aspect ratio is kept up to rounding of both sides.
    const double sourceAspect = static_cast<double>(record.source_size[1]) / record.source_size[0];
    const double destinationAspect = static_cast<double>(record.destination_size[1]) / record.destination_size[0];
    EXPECT_NEAR(destinationAspect, sourceAspect,
                sourceAspect * (2.0 / record.destination_size[0] + 2.0 / record.destination_size[1]));
  }
  const Moments m = ComputeMoments(drawn);
  EXPECT_NEAR(m.mean, 1.0, 5.0 * p.resize_sigma / std::sqrt(m.n));
  // Normal kurtosis 3: SE(variance) = sigma^2 sqrt(2 / n).
  EXPECT_NEAR(m.variance, p.resize_sigma * p.resize_sigma,
              5.0 * p.resize_sigma * p.resize_sigma * std::sqrt(2.0 / m.n));
}

// Like the official code, the resized full width is clipped to the (half-)width bounds.
TEST(PatchSampler, ResizedWidthIsClippedToTheWidthBounds)
{
  auto                     image = MakeImage<2>(256);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  nsa::PatchSampler<2> sampler(p, image, image, nullptr, nullptr);
  for (std::uint64_t i = 0; i < 500; ++i)
  {
    nsa::RandomStream stream(3, 0, i, nsa::RandomPurpose::Test);
    const auto        record = sampler.Sample(stream, 1.0)[0].record;
    for (unsigned int axis = 0; axis < 2; ++axis)
    {
      EXPECT_GE(record.destination_size[axis], std::lround(0.03 * 256));
      EXPECT_LE(record.destination_size[axis], std::lround(0.4 * 256));
    }
  }
}

// CutPaste: patch area fraction uniform on [0.02, 0.15] (mean 0.085, sd 0.13 / sqrt(12)),
// aspect ratio below 1 with probability 1/2 (binomial SE sqrt(0.25 / n)).
TEST(PatchSampler, CutPasteRuleFollowsItsDefinition)
{
  auto                     image = MakeImage<2>(1024);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.patch_rule = nsa::PatchRule::CutPaste;
  p.resize = false;
  nsa::PatchSampler<2> sampler(p, image, image, nullptr, nullptr);
  std::vector<double>  areas;
  std::size_t          below = 0;
  const std::size_t    n = 4000;
  for (std::uint64_t i = 0; i < n; ++i)
  {
    nsa::RandomStream stream(5, 0, i, nsa::RandomPurpose::Test);
    const auto        record = sampler.Sample(stream, 1.0)[0].record;
    const double      wx = 2.0 * record.half_width_fraction[0];
    const double      wy = 2.0 * record.half_width_fraction[1];
    areas.push_back(wx * wy);
    below += wy / wx < 1.0 ? 1 : 0;
    EXPECT_GE(wy / wx, 0.3 - 1e-12);
    EXPECT_LE(wy / wx, 3.3 + 1e-12);
    // The whole patch lies inside the image.
    for (unsigned int axis = 0; axis < 2; ++axis)
    {
      EXPECT_GE(record.source_index[axis], 0);
      EXPECT_LE(record.source_index[axis] + record.source_size[axis], 1024);
    }
  }
  const Moments m = ComputeMoments(areas);
  EXPECT_NEAR(m.mean, 0.085, 5.0 * 0.13 / std::sqrt(12.0 * n));
  EXPECT_NEAR(static_cast<double>(below) / n, 0.5, 5.0 * std::sqrt(0.25 / n));
}

// The first patch is always attempted, each further one on a fair coin: the number attempted
// is 1 + Binomial(num_patches - 1, 1/2).
TEST(PatchSampler, PatchCountFollowsTheCoinFlipRule)
{
  auto                     image = MakeImage<2>(128);
  nsa::SynthesisParameters p;
  p.num_patches = 4;
  nsa::PatchSampler<2> sampler(p, image, image, nullptr, nullptr);
  std::vector<double>  counts;
  for (std::uint64_t i = 0; i < 4000; ++i)
  {
    nsa::RandomStream stream(9, 0, i, nsa::RandomPurpose::Test);
    const auto        patches = sampler.Sample(stream, 1.0);
    ASSERT_EQ(patches.size(), 4u);
    EXPECT_NE(patches[0].record.status, nsa::PatchStatus::NotDrawn);
    double attempted = 0;
    for (const auto & patch : patches)
    {
      attempted += patch.record.status != nsa::PatchStatus::NotDrawn ? 1 : 0;
    }
    counts.push_back(attempted);
  }
  const Moments m = ComputeMoments(counts);
  EXPECT_NEAR(m.mean, 2.5, 5.0 * std::sqrt(0.75 / m.n));
}

TEST(PatchSampler, DestinationBoxKeepsAOneVoxelMargin)
{
  auto                     image = MakeImage<3>(40);
  nsa::SynthesisParameters p;
  p.num_patches = 3;
  nsa::PatchSampler<3> sampler(p, image, image, nullptr, nullptr);
  for (std::uint64_t i = 0; i < 300; ++i)
  {
    nsa::RandomStream stream(1, 0, i, nsa::RandomPurpose::Test);
    for (const auto & patch : sampler.Sample(stream, 1.0))
    {
      if (patch.record.status != nsa::PatchStatus::Blended)
      {
        continue;
      }
      for (unsigned int axis = 0; axis < 3; ++axis)
      {
        EXPECT_GE(patch.destinationRegion.GetIndex()[axis], 1);
        EXPECT_LE(patch.destinationRegion.GetUpperIndex()[axis], 38);
        EXPECT_GE(patch.destinationRegion.GetSize()[axis], static_cast<unsigned>(p.min_patch_width));
      }
      EXPECT_EQ(patch.labelMask->GetLargestPossibleRegion().GetSize(), patch.destinationRegion.GetSize());
    }
  }
}

// Object constraints: an accepted source box holds more than min_object object voxels and
// more than min_overlap of the resized source object lands on destination object.
TEST(PatchSampler, ObjectConstraintsHold)
{
  using MaskType = itk::Image<unsigned char, 2>;
  auto image = MakeImage<2>(128);
  auto object = MaskType::New();
  object->SetRegions(image->GetLargestPossibleRegion());
  object->Allocate();
  object->FillBuffer(0);
  // Object: the left half.
  for (itk::IndexValueType y = 0; y < 128; ++y)
  {
    for (itk::IndexValueType x = 0; x < 64; ++x)
    {
      object->SetPixel({ { x, y } }, 1);
    }
  }
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.object_mask = nsa::ObjectMask::Image;
  p.min_object = 0.7;
  p.min_overlap = 0.5;
  nsa::PatchSampler<2> sampler(p, image, image, object, object);
  std::size_t          blended = 0;
  for (std::uint64_t i = 0; i < 300; ++i)
  {
    nsa::RandomStream stream(2, 0, i, nsa::RandomPurpose::Test);
    const auto        patch = sampler.Sample(stream, 1.0)[0];
    if (patch.record.status != nsa::PatchStatus::Blended)
    {
      continue;
    }
    ++blended;
    // Recount the source object fraction.
    double inside = 0;
    for (itk::IndexValueType y = 0; y < static_cast<itk::IndexValueType>(patch.sourceRegion.GetSize()[1]); ++y)
    {
      for (itk::IndexValueType x = 0; x < static_cast<itk::IndexValueType>(patch.sourceRegion.GetSize()[0]); ++x)
      {
        inside += object->GetPixel({ { patch.sourceRegion.GetIndex()[0] + x, patch.sourceRegion.GetIndex()[1] + y } });
      }
    }
    EXPECT_GT(inside / patch.sourceRegion.GetNumberOfPixels(), p.min_object);
    EXPECT_GT(patch.record.overlap_fraction, p.min_overlap);
    // The destination box must overlap the object half.
    EXPECT_LT(patch.destinationRegion.GetIndex()[0], 64);
  }
  EXPECT_GT(blended, 200u);
}

TEST(PatchSampler, FailureToPlaceIsRecordedNotThrown)
{
  using MaskType = itk::Image<unsigned char, 2>;
  auto image = MakeImage<2>(64);
  auto empty = MaskType::New();
  empty->SetRegions(image->GetLargestPossibleRegion());
  empty->Allocate();
  empty->FillBuffer(0);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.object_mask = nsa::ObjectMask::Image;
  p.max_attempts = 17;
  nsa::PatchSampler<2> sampler(p, image, image, empty, empty);
  nsa::RandomStream    stream(4, 0, 0, nsa::RandomPurpose::Test);
  const auto           patch = sampler.Sample(stream, 1.0)[0];
  EXPECT_EQ(patch.record.status, nsa::PatchStatus::NoSourceLocation);
  EXPECT_EQ(patch.record.source_attempts, 17);
  EXPECT_STREQ(nsa::PatchStatusName(patch.record.status), "no-source-location");
}

TEST(PatchSampler, EllipsesFillPartOfTheBox)
{
  auto                     image = MakeImage<3>(64);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.patch_shape = nsa::PatchShape::Ellipses;
  nsa::PatchSampler<3> sampler(p, image, image, nullptr, nullptr);
  std::size_t          partial = 0;
  for (std::uint64_t i = 0; i < 50; ++i)
  {
    nsa::RandomStream stream(8, 0, i, nsa::RandomPurpose::Test);
    const auto        patch = sampler.Sample(stream, 1.0)[0];
    if (patch.record.status != nsa::PatchStatus::Blended)
    {
      continue;
    }
    const auto voxels = static_cast<std::int64_t>(patch.destinationRegion.GetNumberOfPixels());
    EXPECT_GT(patch.record.blended_voxels, 0);
    EXPECT_LE(patch.record.blended_voxels, voxels);
    partial += patch.record.blended_voxels < voxels ? 1 : 0;
  }
  EXPECT_GT(partial, 25u);
}

// With ellipses and an object mask, the object constraints are fractions of the ellipses,
// not of their bounding box: a box corner outside the object must not reject a patch whose
// ellipses lie inside it (it rejected nearly every patch of a head MR before).
TEST(PatchSampler, EllipsesMeetObjectConstraintsByTheirOwnVoxels)
{
  using MaskType = itk::Image<unsigned char, 2>;
  auto image = MakeImage<2>(128);
  auto object = MaskType::New();
  object->SetRegions(image->GetLargestPossibleRegion());
  object->Allocate();
  // Object: a disc of radius 50 (a head section).
  for (itk::IndexValueType y = 0; y < 128; ++y)
  {
    for (itk::IndexValueType x = 0; x < 128; ++x)
    {
      object->SetPixel({ { x, y } }, std::hypot(x - 63.5, y - 63.5) < 50.0 ? 1 : 0);
    }
  }
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.patch_shape = nsa::PatchShape::Ellipses;
  p.object_mask = nsa::ObjectMask::Image;
  p.min_object = 0.7;
  p.min_overlap = 0.5;
  nsa::PatchSampler<2> sampler(p, image, image, object, object);
  std::size_t          blended = 0, tooSmall = 0;
  for (std::uint64_t i = 0; i < 200; ++i)
  {
    nsa::RandomStream stream(5, 0, i, nsa::RandomPurpose::Test);
    const auto        patch = sampler.Sample(stream, 1.0)[0];
    blended += patch.record.status == nsa::PatchStatus::Blended;
    tooSmall += patch.record.status == nsa::PatchStatus::SourceObjectTooSmall;
    if (patch.record.status == nsa::PatchStatus::Blended)
    {
      EXPECT_GT(patch.record.overlap_fraction, p.min_overlap);
    }
  }
  // Measured: 199 of 200 blended (1 source too small) after the fix; before it 36 blended and
  // 29 rejected as "source object too small" (the rest found no destination).
  EXPECT_GT(blended, 150u);
  EXPECT_LT(tooSmall, 10u);
}

// Physical space: without resizing a patch keeps its physical size, so a source with half
// the destination's spacing gives a destination box of half as many voxels.
TEST(PatchSampler, SizesFollowPhysicalExtent)
{
  auto                     destination = MakeImage<2>(100, 2.0);
  auto                     source = MakeImage<2>(200, 1.0);
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.resize = false;
  nsa::PatchSampler<2> sampler(p, destination, source, nullptr, nullptr);
  for (std::uint64_t i = 0; i < 200; ++i)
  {
    nsa::RandomStream stream(6, 0, i, nsa::RandomPurpose::Test);
    const auto        record = sampler.Sample(stream, 1.0)[0].record;
    for (unsigned int axis = 0; axis < 2; ++axis)
    {
      // Half-widths are fractions of the destination extent (200 mm): h = floor(f 200 / 1) source voxels.
      EXPECT_NEAR(static_cast<double>(record.destination_size[axis]), record.source_size[axis] / 2.0, 0.5 + 1e-9);
    }
  }
}

TEST(PatchSampler, RejectsWidthBoundsOfTheWrongDimension)
{
  auto                     image = MakeImage<3>(32);
  nsa::SynthesisParameters p;
  p.width_bounds = { 0.1, 0.2, 0.1, 0.2 };
  EXPECT_THROW(nsa::PatchSampler<3>(p, image, image, nullptr, nullptr), nsa::ParameterError);
}
