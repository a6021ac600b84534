// Tests of the non-NSA lesion model (nsa::InsertSyntheticLesion) and the UID helpers of the
// derived DICOM series writer.
#include "nsaError.h"
#include "nsaParameterJson.h"
#include "nsaSyntheticLesion.h"

#include "itkImageRegionConstIterator.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkMultiThreaderBase.h"
#include "itkTestingHashImageFilter.h"

#include "gtest/gtest.h"

#include <cmath>
#include <set>
#include <sstream>

namespace
{
using FloatImage = itk::Image<float, 3>;

/** A constant image of 64 x 64 x 32 voxels of 0.5 x 0.5 x 1 mm, origin (-16, -16, -16) mm. */
FloatImage::Pointer
MakeImage(float value)
{
  auto image = FloatImage::New();
  FloatImage::SizeType size{ { 64, 64, 32 } };
  image->SetRegions(size);
  FloatImage::SpacingType spacing;
  spacing[0] = 0.5;
  spacing[1] = 0.5;
  spacing[2] = 1.0;
  image->SetSpacing(spacing);
  FloatImage::PointType origin;
  origin.Fill(-16.0);
  image->SetOrigin(origin);
  image->Allocate();
  image->FillBuffer(value);
  return image;
}
} // namespace

TEST(SyntheticLesion, MaskIsTheEllipsoidAndCoreGetsTheRelativeChange)
{
  const auto               image = MakeImage(200.0f);
  nsa::SyntheticLesionParameters parameters;
  parameters.centre = { 0.0, 0.0, 0.0 };
  parameters.radii = { 8.0, 6.0, 5.0 };
  parameters.edge_sigma = 1.0;
  parameters.intensity_change = 0.5;
  const auto lesion = nsa::InsertSyntheticLesion(image, parameters);

  // Mask volume against 4/3 pi abc = 1005.3 mm^3; voxel counting on this grid (0.125 mm^3
  // per voxel, about 8000 voxels) errs by the surface voxels only: a few per cent.
  const double analytic = 4.0 / 3.0 * M_PI * 8.0 * 6.0 * 5.0;
  EXPECT_NEAR(lesion.maskVolume, analytic, 0.05 * analytic);
  // A constant image: the tissue mean is the constant, the core change half of it.
  EXPECT_NEAR(lesion.tissueIntensity, 200.0, 1e-3);
  EXPECT_NEAR(lesion.appliedChange, 100.0, 1e-3);

  // The centre voxel's distance to the surface is 5 mm = 5 sigma: weight 1 - Phi(-5) ~ 1.
  FloatImage::PointType centre;
  centre.Fill(0.0);
  FloatImage::IndexType index;
  ASSERT_TRUE(lesion.image->TransformPhysicalPointToIndex(centre, index));
  EXPECT_NEAR(lesion.image->GetPixel(index), 300.0f, 1e-2f);
  EXPECT_EQ(lesion.mask->GetPixel(index), 1);
  // A corner of the image is far outside: unchanged.
  FloatImage::IndexType corner{ { 0, 0, 0 } };
  EXPECT_FLOAT_EQ(lesion.image->GetPixel(corner), 200.0f);
  EXPECT_EQ(lesion.mask->GetPixel(corner), 0);
  // On the surface along x (8 mm from the centre) the weight is 1/2: value 250.
  FloatImage::PointType onSurface;
  onSurface[0] = 8.0;
  onSurface[1] = 0.0;
  onSurface[2] = 0.0;
  ASSERT_TRUE(lesion.image->TransformPhysicalPointToIndex(onSurface, index));
  EXPECT_NEAR(lesion.image->GetPixel(index), 250.0f, 0.5f);
}

TEST(SyntheticLesion, SharpEdgeAndAbsoluteOffset)
{
  const auto                     image = MakeImage(-50.0f);
  nsa::SyntheticLesionParameters parameters;
  parameters.centre_index = { 32.0, 32.0, 16.0 };
  parameters.radii = { 4.0, 4.0, 4.0 };
  parameters.edge_sigma = 0.0;
  parameters.intensity_offset = 30.0;
  const auto lesion = nsa::InsertSyntheticLesion(image, parameters);
  // Sharp edge: every voxel is either the original or original + offset, exactly where the mask says.
  itk::ImageRegionConstIterator<FloatImage>                   out(lesion.image, lesion.image->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<itk::Image<unsigned char, 3>> mask(lesion.mask, lesion.mask->GetLargestPossibleRegion());
  for (; !out.IsAtEnd(); ++out, ++mask)
  {
    EXPECT_FLOAT_EQ(out.Get(), mask.Get() ? -20.0f : -50.0f);
  }
  EXPECT_GT(lesion.maskVoxels, 0u);
}

TEST(SyntheticLesion, BadParametersAreRefused)
{
  const auto                     image = MakeImage(100.0f);
  nsa::SyntheticLesionParameters parameters;
  parameters.centre = { 500.0, 0.0, 0.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  parameters.centre = { 0.0, 0.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  parameters.centre = { 0.0, 0.0, 0.0 };
  parameters.centre_index = { 1.0, 1.0, 1.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  parameters.centre_index.clear();
  parameters.radii = { 1.0, 0.0, 1.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  // A relative change of an image whose tissue mean is not positive is meaningless.
  parameters.radii = { 4.0, 4.0, 4.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(MakeImage(-1000.0f), parameters), nsa::InputError);
}

// --- Lesion kinds, shapes and placements ---------------------------------------------------

namespace
{
using MaskImage = itk::Image<unsigned char, 3>;

/** A head phantom: a textured sphere of radius 50 mm (values 60..140) around the origin with
 * a dark "ventricle" (value 10, radius 8 mm) at its centre, background 0; `slices` 1 makes it
 * the axial slice through the centre. Grid 72 x 72 x 72 (or 1) voxels of 1.5 mm. */
FloatImage::Pointer
MakeHead(unsigned int slices = 72)
{
  auto                 image = FloatImage::New();
  FloatImage::SizeType size{ { 72, 72, slices } };
  image->SetRegions(size);
  FloatImage::SpacingType spacing;
  spacing.Fill(1.5);
  image->SetSpacing(spacing);
  FloatImage::PointType origin;
  origin[0] = origin[1] = -1.5 * 35.5;
  origin[2] = slices == 1 ? 0.0 : -1.5 * 35.5;
  image->SetOrigin(origin);
  image->Allocate();
  itk::ImageRegionIteratorWithIndex<FloatImage> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    FloatImage::PointType p;
    image->TransformIndexToPhysicalPoint(it.GetIndex(), p);
    const double r = p.GetVectorFromOrigin().GetNorm();
    float        value = 0.0f;
    if (r < 8.0)
    {
      value = 10.0f;
    }
    else if (r < 50.0)
    {
      value = static_cast<float>(100.0 + 40.0 * std::sin(0.5 * p[0]) * std::sin(0.4 * p[1]) * std::cos(0.3 * p[2]));
    }
    it.Set(value);
  }
  return image;
}

template <typename TImage>
std::string
Hash(const TImage * image)
{
  auto hash = itk::Testing::HashImageFilter<TImage>::New();
  hash->SetInput(image);
  hash->InPlaceOff(); // in place, the filter would take the image's buffer
  hash->Update();
  return hash->GetHash();
}

struct Stats
{
  double      mean = 0.0;
  double      variance = 0.0;
  std::size_t count = 0;
};

/** Mean and variance of `image` over the voxels where `mask` is set. */
Stats
MaskedStats(const FloatImage * image, const MaskImage * mask)
{
  Stats                                     s;
  double                                    sum = 0.0, sum2 = 0.0;
  itk::ImageRegionConstIterator<FloatImage> v(image, image->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<MaskImage>  m(mask, mask->GetLargestPossibleRegion());
  for (; !v.IsAtEnd(); ++v, ++m)
  {
    if (m.Get())
    {
      sum += v.Get();
      sum2 += static_cast<double>(v.Get()) * v.Get();
      ++s.count;
    }
  }
  s.mean = sum / static_cast<double>(s.count);
  s.variance = sum2 / static_cast<double>(s.count) - s.mean * s.mean;
  return s;
}

/** Number of voxels farther than `distance` mm from `centre` that differ from the input. */
std::size_t
ChangedBeyond(const FloatImage * input, const FloatImage * output, const itk::Point<double, 3> & centre,
              double distance)
{
  std::size_t                                         changed = 0;
  itk::ImageRegionConstIteratorWithIndex<FloatImage> a(input, input->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<FloatImage>           b(output, output->GetLargestPossibleRegion());
  for (; !a.IsAtEnd(); ++a, ++b)
  {
    FloatImage::PointType p;
    input->TransformIndexToPhysicalPoint(a.GetIndex(), p);
    if (p.EuclideanDistanceTo(centre) > distance && a.Get() != b.Get())
    {
      ++changed;
    }
  }
  return changed;
}

/** A lesion of one kind beside the ventricle, 20 mm off the phantom's centre. */
nsa::SyntheticLesionParameters
KindParameters(const std::string & kind)
{
  nsa::SyntheticLesionParameters parameters;
  parameters.kind = nsa::FromString<nsa::LesionKind>(kind);
  parameters.centre = { 20.0, 0.0, 0.0 };
  parameters.radii = { 9.0, 8.0, 7.0 };
  parameters.edge_sigma = 1.0;
  return parameters;
}
} // namespace

TEST(SyntheticLesion, DefaultsAreTheHyperintenseEllipsoidOfEarlierVersions)
{
  // The defaults and an explicit kind "hyperintense" with +0.5 give the same bits, and the
  // core gets +50 % of the tissue mean (the formula of the first test above).
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters = KindParameters("hyperintense");
  const auto                     byDefault = nsa::InsertSyntheticLesion(head, parameters);
  parameters.intensity_change = 0.5;
  const auto explicitChange = nsa::InsertSyntheticLesion(head, parameters);
  EXPECT_EQ(Hash(byDefault.image.GetPointer()), Hash(explicitChange.image.GetPointer()));
  EXPECT_EQ(byDefault.kind, nsa::LesionKind::Hyperintense);
  EXPECT_NEAR(byDefault.appliedChange, 0.5 * byDefault.tissueIntensity, 1e-9);
  // A negative change asked of the default kind: a hypointense lesion, reported as such.
  parameters.intensity_change = -0.4;
  EXPECT_EQ(nsa::InsertSyntheticLesion(head, parameters).kind, nsa::LesionKind::Hypointense);
  parameters.intensity_change = 0.5;
  parameters.intensity_offset = -20.0;
  EXPECT_EQ(nsa::InsertSyntheticLesion(head, parameters).kind, nsa::LesionKind::Hypointense);
}

TEST(SyntheticLesion, EveryKindIsReproducibleAndLocal)
{
  const auto head = MakeHead();
  for (const std::string & kind : nsa::ModeChoices<nsa::LesionKind>())
  {
    SCOPED_TRACE(kind);
    nsa::SyntheticLesionParameters parameters = KindParameters(kind);
    parameters.seed = 3;
    const auto first = nsa::InsertSyntheticLesion(head, parameters);
    const auto second = nsa::InsertSyntheticLesion(head, parameters);
    EXPECT_EQ(nsa::ToString(first.kind), kind);
    EXPECT_EQ(Hash(first.image.GetPointer()), Hash(second.image.GetPointer()));
    EXPECT_EQ(Hash(first.mask.GetPointer()), Hash(second.mask.GetPointer()));
    EXPECT_NE(Hash(first.image.GetPointer()), Hash(head.GetPointer())) << "the image did not change";
    EXPECT_GT(first.maskVoxels, 0u);
    // Local: the edge weight is below 1e-6 beyond 4.8 edge sigmas of the surface (intensity
    // kinds), the blur reaches 4 sigma further, the displacement is cut at 5 radii.
    const double reach = kind == "mass-effect" ? 5.0 * 9.0 : 9.0 + 4.8 * 1.0 + (kind == "blur" ? 4.0 * 2.0 : 0.0);
    EXPECT_EQ(ChangedBeyond(head, first.image, first.centre, reach + 1.5 * std::sqrt(3.0)), 0u);
  }
}

TEST(SyntheticLesion, SameResultWithOneOrManyThreads)
{
  const auto         head = MakeHead();
  const unsigned int threads = itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
  for (const std::string kind : { "blur", "mass-effect" })
  {
    SCOPED_TRACE(kind);
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);
    const auto one = nsa::InsertSyntheticLesion(head, KindParameters(kind));
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(4);
    const auto four = nsa::InsertSyntheticLesion(head, KindParameters(kind));
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
    EXPECT_EQ(Hash(one.image.GetPointer()), Hash(four.image.GetPointer()));
  }
}

TEST(SyntheticLesion, IntensityStatisticsInsideTheMask)
{
  const auto head = MakeHead();
  auto       run = [&](const std::string & kind) { return nsa::InsertSyntheticLesion(head, KindParameters(kind)); };
  const auto hyper = run("hyperintense");
  const Stats before = MaskedStats(head, hyper.mask);
  // The mask voxels have weights 0.5..1 (edge sigma 1 mm against radii of 7-9 mm: mostly
  // near 1), so the mean changes by between half and all of the core change.
  const double hyperGain = MaskedStats(hyper.image, hyper.mask).mean - before.mean;
  EXPECT_GT(hyperGain, 0.25 * before.mean);
  EXPECT_LT(hyperGain, 0.5 * before.mean);
  const auto   hypo = run("hypointense");
  const double hypoLoss = before.mean - MaskedStats(hypo.image, hypo.mask).mean;
  EXPECT_GT(hypoLoss, 0.25 * before.mean);
  EXPECT_LT(hypoLoss, 0.5 * before.mean);
  // Cavity: towards the object's 2nd percentile (the ventricle's 10 or the darkest texture).
  // With weights >= 0.5 and a fill of 0.9, the mean moves at least 0.45 of the way.
  const auto cavity = run("cavity");
  EXPECT_LT(cavity.rangeLow, before.mean - 10.0);
  EXPECT_LT(MaskedStats(cavity.image, cavity.mask).mean, before.mean - 0.4 * (before.mean - cavity.rangeLow));
  // Blur: the texture (period about 13-21 mm) loses contrast under a 2 mm Gaussian; noise of
  // 25 % of the tissue mean adds about (0.25 * 100)^2 * mean(w^2) to the variance.
  const auto blur = run("blur");
  EXPECT_LT(MaskedStats(blur.image, blur.mask).variance, 0.9 * before.variance);
  EXPECT_NEAR(MaskedStats(blur.image, blur.mask).mean, before.mean, 0.05 * before.mean);
  const auto noise = run("noise");
  EXPECT_GT(MaskedStats(noise.image, noise.mask).variance, before.variance + 0.25 * 625.0);
  EXPECT_NEAR(noise.appliedChange, 0.25 * noise.tissueIntensity, 1e-9);
}

TEST(SyntheticLesion, InversionMapsTheLocalRange)
{
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters = KindParameters("inversion");
  parameters.edge_sigma = 0.0; // weights exactly 0 or 1: the map itself is visible
  const auto lesion = nsa::InsertSyntheticLesion(head, parameters);
  ASSERT_TRUE(std::isfinite(lesion.rangeLow) && std::isfinite(lesion.rangeHigh));
  EXPECT_LT(lesion.rangeLow, lesion.rangeHigh);
  itk::ImageRegionConstIterator<FloatImage> in(head, head->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<FloatImage> out(lesion.image, lesion.image->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<MaskImage>  m(lesion.mask, lesion.mask->GetLargestPossibleRegion());
  for (; !in.IsAtEnd(); ++in, ++out, ++m)
  {
    // float result of a double computation: exact to float rounding.
    const float expected = m.Get() ? static_cast<float>(lesion.rangeLow + lesion.rangeHigh - in.Get()) : in.Get();
    ASSERT_NEAR(out.Get(), expected, 1e-4f * std::abs(expected) + 1e-4f);
  }
}

TEST(SyntheticLesion, MassEffectMovesEdgesNotIntensities)
{
  // The ventricle (a 10-valued ball of 8 mm at the origin) beside a mass 20 mm away: it is
  // pushed away from the mass (its centroid moves to negative x) and no new intensities appear.
  const auto head = MakeHead();
  const auto lesion = nsa::InsertSyntheticLesion(head, KindParameters("mass-effect"));
  // 4 mm asked, capped at 0.9 * 7 / e^(1/2) = 3.82 mm by the smallest radius (7 mm).
  EXPECT_NEAR(lesion.appliedDisplacement, 0.9 * 7.0 / std::exp(0.5), 1e-12);
  auto centroid = [](const FloatImage * image) {
    double                                              sum = 0.0;
    double                                              n = 0.0;
    itk::ImageRegionConstIteratorWithIndex<FloatImage> it(image, image->GetLargestPossibleRegion());
    for (; !it.IsAtEnd(); ++it)
    {
      FloatImage::PointType p;
      image->TransformIndexToPhysicalPoint(it.GetIndex(), p);
      // The ventricle and its partial-volume rim only (not the head's edge, also moved a little).
      if (it.Get() > 5.0f && it.Get() < 40.0f && p.GetVectorFromOrigin().GetNorm() < 20.0)
      {
        sum += p[0];
        n += 1.0;
      }
    }
    return sum / n;
  };
  EXPECT_LT(centroid(lesion.image), centroid(head) - 0.3);
  // Linear interpolation: every value lies within the input's range; the mean over the
  // moved region stays within a few per cent.
  const Stats before = MaskedStats(head, lesion.mask);
  const Stats after = MaskedStats(lesion.image, lesion.mask);
  EXPECT_NEAR(after.mean, before.mean, 0.05 * before.mean);
  float low = 1e30f, high = -1e30f;
  for (std::size_t i = 0; i < head->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
  {
    low = std::min(low, head->GetBufferPointer()[i]);
    high = std::max(high, head->GetBufferPointer()[i]);
  }
  for (std::size_t i = 0; i < head->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
  {
    ASSERT_GE(lesion.image->GetBufferPointer()[i], low);
    ASSERT_LE(lesion.image->GetBufferPointer()[i], high);
  }
  // The centre is in the mask (the ellipsoid is part of it) and so is a voxel on the
  // surface, where the displacement peaks.
  FloatImage::IndexType index;
  ASSERT_TRUE(lesion.mask->TransformPhysicalPointToIndex(lesion.centre, index));
  EXPECT_EQ(lesion.mask->GetPixel(index), 1);
}

TEST(SyntheticLesion, MassEffectIsCappedWhereItWouldFold)
{
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters = KindParameters("mass-effect");
  parameters.radii = { 3.0, 3.0, 3.0 };
  parameters.max_displacement = 6.0;
  const auto lesion = nsa::InsertSyntheticLesion(head, parameters);
  EXPECT_NEAR(lesion.appliedDisplacement, 0.9 * 3.0 / std::exp(0.5), 1e-12);
}

TEST(SyntheticLesion, IrregularShapeIsSeededAndLobulated)
{
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters = KindParameters("hyperintense");
  parameters.radii = { 12.0, 12.0, 12.0 };
  const auto ellipsoid = nsa::InsertSyntheticLesion(head, parameters);
  parameters.shape = nsa::LesionShape::Irregular;
  parameters.seed = 1;
  const auto a = nsa::InsertSyntheticLesion(head, parameters);
  const auto a2 = nsa::InsertSyntheticLesion(head, parameters);
  parameters.seed = 2;
  const auto b = nsa::InsertSyntheticLesion(head, parameters);
  EXPECT_EQ(Hash(a.mask.GetPointer()), Hash(a2.mask.GetPointer()));
  EXPECT_EQ(Hash(a.image.GetPointer()), Hash(a2.image.GetPointer()));
  EXPECT_NE(Hash(a.mask.GetPointer()), Hash(b.mask.GetPointer()));
  EXPECT_NE(Hash(a.mask.GetPointer()), Hash(ellipsoid.mask.GetPointer()));
  // The radius varies by at most 35 %: the volume lies between 0.65^3 and 1.35^3 of the sphere's.
  for (const auto * lesion : { &a, &b })
  {
    EXPECT_GT(lesion->maskVolume, 0.65 * 0.65 * 0.65 * ellipsoid.maskVolume);
    EXPECT_LT(lesion->maskVolume, 1.35 * 1.35 * 1.35 * ellipsoid.maskVolume);
  }
}

TEST(SyntheticLesion, NoiseDependsOnTheSeed)
{
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters = KindParameters("noise");
  parameters.seed = 1;
  const auto a = nsa::InsertSyntheticLesion(head, parameters);
  parameters.seed = 2;
  const auto b = nsa::InsertSyntheticLesion(head, parameters);
  EXPECT_NE(Hash(a.image.GetPointer()), Hash(b.image.GetPointer()));
  EXPECT_EQ(Hash(a.mask.GetPointer()), Hash(b.mask.GetPointer())); // same ellipsoid
}

TEST(SyntheticLesion, RandomPlacementsStayInsideTheObject)
{
  const auto head = MakeHead(); // a ball of radius 50 mm: depth = 50 - |centre|
  // Maurer distances inside are measured to the centres of the discretised ball's contour
  // voxels (object voxels with a background neighbour), which lie up to a voxel diagonal
  // (1.5 sqrt(3) = 2.6 mm) inside the analytic sphere: 2.6 mm of tolerance.
  const double tolerance = 2.6;
  for (const std::string placement : { "random", "deep", "cortical" })
  {
    SCOPED_TRACE(placement);
    nsa::SyntheticLesionParameters parameters;
    parameters.placement = nsa::FromString<nsa::LesionPlacement>(placement);
    parameters.radii = { 5.0, 5.0, 5.0 };
    std::set<std::string> centres;
    for (std::uint64_t seed = 0; seed < 4; ++seed)
    {
      parameters.seed = seed;
      const auto   lesion = nsa::InsertSyntheticLesion(head, parameters);
      const double depth = 50.0 - lesion.centre.GetVectorFromOrigin().GetNorm();
      EXPECT_NEAR(depth, lesion.centreDepth, tolerance);
      EXPECT_GE(depth, 5.0 - tolerance);
      if (placement == "deep")
      {
        EXPECT_GE(depth, 25.0 - tolerance);
      }
      if (placement == "cortical")
      {
        EXPECT_GE(depth, 8.0 - tolerance);
        EXPECT_LE(depth, 20.0 + tolerance);
      }
      // Every mask voxel lies in the head.
      itk::ImageRegionConstIterator<FloatImage> v(head, head->GetLargestPossibleRegion());
      itk::ImageRegionConstIterator<MaskImage>  m(lesion.mask, lesion.mask->GetLargestPossibleRegion());
      std::size_t                               outside = 0;
      for (; !v.IsAtEnd(); ++v, ++m)
      {
        outside += m.Get() && v.Get() == 0.0f ? 1 : 0;
      }
      EXPECT_EQ(outside, 0u);
      EXPECT_GT(lesion.maskVoxels, 0u);
      std::ostringstream text;
      text << lesion.centre;
      centres.insert(text.str());
      // Same seed, same centre.
      EXPECT_EQ(nsa::InsertSyntheticLesion(head, parameters).centre, lesion.centre);
    }
    EXPECT_GE(centres.size(), 3u) << "different seeds should give different centres";
  }
}

TEST(SyntheticLesion, ImpossiblePlacementsAreRefused)
{
  const auto                     head = MakeHead();
  nsa::SyntheticLesionParameters parameters;
  parameters.placement = nsa::LesionPlacement::Deep;
  parameters.deep_distance = 60.0; // deeper than the ball's radius
  EXPECT_THROW(nsa::InsertSyntheticLesion(head, parameters), nsa::ParameterError);
  parameters.placement = nsa::LesionPlacement::Random;
  parameters.radii = { 55.0, 55.0, 55.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(head, parameters), nsa::ParameterError);
  parameters.radii = { 5.0, 5.0, 5.0 };
  parameters.centre = { 0.0, 0.0, 0.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(head, parameters), nsa::ParameterError);
}

TEST(SyntheticLesion, UnknownNamesAndBadKindParametersAreRefused)
{
  const auto                     head = MakeHead(1);
  nsa::SyntheticLesionParameters parameters;
  EXPECT_THROW(nsa::FromString<nsa::LesionKind>("tumour"), nsa::ParameterError);
  parameters.kind = nsa::LesionKind::Hypointense;
  parameters.intensity_change = 0.3;
  EXPECT_THROW(nsa::InsertSyntheticLesion(head, parameters), nsa::ParameterError);
  parameters = nsa::SyntheticLesionParameters();
  EXPECT_THROW(nsa::FromString<nsa::LesionShape>("star"), nsa::ParameterError);
  EXPECT_THROW(nsa::FromString<nsa::LesionPlacement>("anywhere"), nsa::ParameterError);
  parameters = nsa::SyntheticLesionParameters();
  parameters.kind = nsa::LesionKind::Blur;
  parameters.blur_sigma = 0.0;
  EXPECT_THROW(nsa::InsertSyntheticLesion(head, parameters), nsa::ParameterError);
}

TEST(SyntheticLesion, TinyLesionHasAtLeastOneVoxel)
{
  // 3 mm diameter on a 2 mm grid, centred on a voxel corner: no voxel centre lies within
  // 1.5 mm (the nearest are sqrt(3) mm away), so the mask is the nearest voxel.
  auto                           image = MakeImage(100.0f);
  FloatImage::SpacingType        spacing;
  spacing.Fill(2.0);
  image->SetSpacing(spacing);
  nsa::SyntheticLesionParameters parameters;
  parameters.centre_index = { 10.5, 10.5, 10.5 };
  parameters.radii = { 1.5, 1.5, 1.5 };
  for (const std::string & kind : nsa::ModeChoices<nsa::LesionKind>())
  {
    SCOPED_TRACE(kind);
    parameters.kind = nsa::FromString<nsa::LesionKind>(kind);
    const auto lesion = nsa::InsertSyntheticLesion(image, parameters);
    EXPECT_EQ(lesion.maskVoxels, 1u);
    EXPECT_DOUBLE_EQ(lesion.maskVolume, 8.0);
  }
  // Centred on a voxel: that voxel (and only it: its neighbours are 2 mm away).
  parameters.kind = nsa::LesionKind::Hyperintense;
  parameters.centre_index = { 10.0, 10.0, 10.0 };
  EXPECT_EQ(nsa::InsertSyntheticLesion(image, parameters).maskVoxels, 1u);
}

TEST(SyntheticLesion, EveryKindWorksOnASingleSlice)
{
  const auto head = MakeHead(1);
  for (const std::string & kind : nsa::ModeChoices<nsa::LesionKind>())
  {
    SCOPED_TRACE(kind);
    nsa::SyntheticLesionParameters parameters = KindParameters(kind);
    parameters.shape = nsa::LesionShape::Irregular;
    parameters.seed = 5;
    const auto lesion = nsa::InsertSyntheticLesion(head, parameters);
    EXPECT_GT(lesion.maskVoxels, 20u);
    EXPECT_NE(Hash(lesion.image.GetPointer()), Hash(head.GetPointer()));
    for (std::size_t i = 0; i < head->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
    {
      ASSERT_TRUE(std::isfinite(lesion.image->GetBufferPointer()[i]));
    }
    // Blur in-plane: a constant along the (absent) z axis does not leak zeros in; the mean
    // inside stays near the tissue's.
    if (kind == "blur")
    {
      EXPECT_NEAR(MaskedStats(lesion.image, lesion.mask).mean, MaskedStats(head, lesion.mask).mean, 5.0);
    }
  }
  // Random placements on a slice: distances are in-plane (the disc of radius 50 mm).
  nsa::SyntheticLesionParameters parameters;
  parameters.placement = nsa::LesionPlacement::Deep;
  parameters.radii = { 5.0, 5.0, 5.0 };
  const auto lesion = nsa::InsertSyntheticLesion(head, parameters);
  EXPECT_GE(50.0 - lesion.centre.GetVectorFromOrigin().GetNorm(), 25.0 - 1.5);
}

// One name per lesion mode: every value round-trips through its name table, and other
// names are refused with the setting's name and the choices (as NSAInsertLesion's flags).
TEST(SyntheticLesion, ModesRoundTripThroughTheirNames)
{
  for (const auto & entry : nsa::ModeTable<nsa::LesionKind>::Names)
  {
    EXPECT_EQ(nsa::FromString<nsa::LesionKind>(entry.name), entry.value);
    EXPECT_STREQ(nsa::ToString(entry.value), entry.name);
  }
  for (const auto & entry : nsa::ModeTable<nsa::LesionShape>::Names)
  {
    EXPECT_EQ(nsa::FromString<nsa::LesionShape>(entry.name), entry.value);
  }
  for (const auto & entry : nsa::ModeTable<nsa::LesionPlacement>::Names)
  {
    EXPECT_EQ(nsa::FromString<nsa::LesionPlacement>(entry.name), entry.value);
  }
  EXPECT_EQ(nsa::ModeChoices<nsa::LesionKind>(),
            (std::vector<std::string>{ "hyperintense", "hypointense", "cavity", "blur", "noise", "inversion",
                                       "mass-effect" }));
  try
  {
    nsa::FromString<nsa::LesionKind>("tumour");
    ADD_FAILURE() << "kind 'tumour' was accepted";
  }
  catch (const nsa::ParameterError & error)
  {
    EXPECT_STREQ(error.what(), "kind: 'tumour' is not one of {'hyperintense', 'hypointense', 'cavity', 'blur', "
                               "'noise', 'inversion', 'mass-effect'}");
  }
}

TEST(SyntheticLesion, ParametersReadAndCheckThemselvesFromTheirKeys)
{
  // The keys are the flags of NSAInsertLesion and of a JSON object alike, one name each.
  const auto parameters = nsa::FromJson<nsa::SyntheticLesionParameters>(
    nlohmann::json::parse(R"({"kind": "cavity", "radii": [4, 5, 6], "cavity_level": -2.5, "edge_sigma": 0})"),
    "lesion");
  EXPECT_EQ(parameters.kind, nsa::LesionKind::Cavity);
  EXPECT_EQ(parameters.radii, (std::vector<double>{ 4, 5, 6 }));
  ASSERT_TRUE(parameters.cavity_level.has_value());
  EXPECT_DOUBLE_EQ(*parameters.cavity_level, -2.5);
  EXPECT_FALSE(parameters.intensity_change.has_value());
  EXPECT_DOUBLE_EQ(parameters.edge_sigma, 0.0);

  const auto refused = [](const char * text) {
    try
    {
      nsa::FromJson<nsa::SyntheticLesionParameters>(nlohmann::json::parse(text), "lesion");
    }
    catch (const nsa::ParameterError & error)
    {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  // Validate() runs after the keys are read: a zero radius is in the key's range, not a lesion.
  EXPECT_EQ(refused(R"({"radii": [4, 0, 6]})"), "lesion: lesion radii '4,0,6': every radius must be positive");
  EXPECT_NE(refused(R"({"radii": [4, 6]})").find("lesion.radii"), std::string::npos);
  EXPECT_NE(refused(R"({"kind": "hypointense", "intensity_change": 0.2})").find("needs a change in (-1, 0)"),
            std::string::npos);
  EXPECT_NE(refused(R"({"radius": [4, 5, 6]})").find("radius"), std::string::npos);
  EXPECT_NE(refused(R"({"irregularity_degree": 7})").find("lesion.irregularity_degree"), std::string::npos);
}
