#include "itkNaturalSyntheticAnomalyImageFilter.h"
#include "itkSyntheticAnomalyLabelImageFilter.h"
#include "nsaSynthesis.h"

#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionIterator.h"
#include "itkTestingHashImageFilter.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace
{

/** A smooth, textured test image with a non-trivial geometry: a sum of sinusoids plus a
 * bright disk, values roughly in [0, 200]. */
template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
MakeImage(unsigned int size, double phase)
{
  using ImageType = itk::Image<float, VDimension>;
  auto                         image = ImageType::New();
  typename ImageType::SizeType imageSize;
  imageSize.Fill(size);
  typename ImageType::IndexType start;
  start.Fill(3);
  image->SetRegions(typename ImageType::RegionType(start, imageSize));
  typename ImageType::SpacingType spacing;
  typename ImageType::PointType   origin;
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    spacing[axis] = 0.5 + 0.25 * axis;
    origin[axis] = -10.0 + 3.0 * axis;
  }
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  typename ImageType::DirectionType direction;
  direction.SetIdentity();
  direction[0][0] = 0.0;
  direction[0][1] = 1.0;
  direction[1][0] = 1.0;
  direction[1][1] = 0.0;
  image->SetDirection(direction);
  image->Allocate();
  itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    double value = 100.0;
    double r2 = 0.0;
    for (unsigned int axis = 0; axis < VDimension; ++axis)
    {
      const double x = static_cast<double>(it.GetIndex()[axis] - 3) / size;
      value += 30.0 * std::sin(2 * 3.14159265 * (3 + axis) * x + phase);
      r2 += (x - 0.5) * (x - 0.5);
    }
    value += r2 < 0.04 ? 60.0 : 0.0;
    it.Set(static_cast<float>(value));
  }
  return image;
}

template <typename TImage>
std::string
Hash(const TImage * image)
{
  using HashType = itk::Testing::HashImageFilter<TImage>;
  auto hash = HashType::New();
  hash->SetInput(image);
  hash->Update();
  return hash->GetHash();
}

template <unsigned int VDimension>
struct Run
{
  using ImageType = itk::Image<float, VDimension>;
  using FilterType = itk::NaturalSyntheticAnomalyImageFilter<ImageType>;
  typename FilterType::Pointer filter;
  typename ImageType::Pointer  destination;
  typename ImageType::Pointer  source;
};

template <unsigned int VDimension>
Run<VDimension>
Synthesise(const nsa::SynthesisParameters & p, std::uint64_t seed, unsigned int size, unsigned int workUnits = 0)
{
  Run<VDimension> run;
  run.destination = MakeImage<VDimension>(size, 0.0);
  run.source = MakeImage<VDimension>(size, 1.3);
  run.filter = Run<VDimension>::FilterType::New();
  run.filter->SetDestinationImage(run.destination);
  run.filter->SetSourceImage(run.source);
  run.filter->SetParameters(p);
  run.filter->SetSeed(seed);
  if (workUnits > 0)
  {
    run.filter->SetNumberOfWorkUnits(workUnits);
  }
  run.filter->Update();
  return run;
}

const char * const BlendModes[] = { "poisson-source", "poisson-mixed", "swap", "uniform", "poisson-uniform" };
const char * const LabelModes[] = { "binary", "continuous", "intensity", "logistic-intensity" };

template <unsigned int VDimension>
void
CheckOneMode(const std::string & blend, const std::string & labelMode, unsigned int size)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
  p.label_mode = nsa::FromString<nsa::LabelMode>(labelMode);
  p.num_patches = 3;
  if (VDimension == 3)
  {
    // Small volumes: patches of at least 8 voxels a side survive the label medians (a
    // 4-voxel patch keeps only 2^3 interior voxels after the Poisson boundary, which a
    // 5x5x5 median removes).
    p.width_bounds = { 0.1, 0.4 };
    p.label_mask_median_radius = 1;
    p.label_median_radius = 1;
  }
  SCOPED_TRACE(blend + " / " + labelMode + " / " + std::to_string(VDimension) + "D");
  auto         run = Synthesise<VDimension>(p, 21, size);
  const auto * image = run.filter->GetOutput();
  const auto * label = run.filter->GetLabelOutput();
  const auto & record = run.filter->GetRecord();
  ASSERT_GE(record.NumberOfBlendedPatches(), 1u);

  // Geometry preserved.
  for (const itk::ImageBase<VDimension> * output :
       { static_cast<const itk::ImageBase<VDimension> *>(image), static_cast<const itk::ImageBase<VDimension> *>(label) })
  {
    EXPECT_EQ(output->GetLargestPossibleRegion(), run.destination->GetLargestPossibleRegion());
    EXPECT_EQ(output->GetOrigin(), run.destination->GetOrigin());
    EXPECT_EQ(output->GetSpacing(), run.destination->GetSpacing());
    EXPECT_EQ(output->GetDirection(), run.destination->GetDirection());
  }

  // The image changes only inside the blended boxes; the label is zero outside the boxes
  // grown by the median radii (r1, plus r2 for intensity labels) and within [0, 1] for
  // bounded labels.
  const bool     intensity = labelMode == "intensity" || labelMode == "logistic-intensity";
  const long     pad = p.label_mask_median_radius + (labelMode == "intensity" ? p.label_median_radius : 0);
  double         labelSum = 0.0;
  std::size_t    changedOutside = 0, labelOutside = 0;
  itk::ImageRegionConstIteratorWithIndex<itk::Image<float, VDimension>> it(label, label->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    bool inBox = false, inPadded = false;
    for (const auto & patch : record.patches)
    {
      if (patch.status != nsa::PatchStatus::Blended)
      {
        continue;
      }
      bool inside = true, insidePadded = true;
      for (unsigned int axis = 0; axis < VDimension; ++axis)
      {
        const auto i = it.GetIndex()[axis];
        const auto first = patch.destination_index[axis];
        const auto last = first + patch.destination_size[axis];
        inside = inside && i >= first && i < last;
        insidePadded = insidePadded && i >= first - pad && i < last + pad;
      }
      inBox = inBox || inside;
      inPadded = inPadded || insidePadded;
    }
    const float value = it.Get();
    labelSum += value;
    labelOutside += (!inPadded && value != 0.0f) ? 1 : 0;
    changedOutside += (!inBox && image->GetPixel(it.GetIndex()) != run.destination->GetPixel(it.GetIndex())) ? 1 : 0;
    if (labelMode != "intensity")
    {
      ASSERT_GE(value, 0.0f);
      ASSERT_LE(value, 1.0f);
    }
    else
    {
      ASSERT_GE(value, 0.0f);
    }
  }
  EXPECT_EQ(changedOutside, 0u);
  EXPECT_EQ(labelOutside, 0u);
  EXPECT_GT(labelSum, 0.0);
  (void)intensity;
}

} // namespace

/** Every valid (blend mode, label mode) pair: continuous labels need an interpolated blend
 * (the other pairs are rejected by Validate, tested below). */
std::vector<std::pair<std::string, std::string>>
ValidModePairs()
{
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const char * blend : BlendModes)
  {
    for (const char * label : LabelModes)
    {
      const std::string b = blend, l = label;
      if (l != "continuous" || b == "uniform" || b == "poisson-uniform")
      {
        pairs.emplace_back(b, l);
      }
    }
  }
  return pairs;
}

class EveryMode : public ::testing::TestWithParam<std::pair<std::string, std::string>>
{};

TEST_P(EveryMode, TwoD)
{
  CheckOneMode<2>(GetParam().first, GetParam().second, 96);
}

TEST_P(EveryMode, ThreeD)
{
  CheckOneMode<3>(GetParam().first, GetParam().second, 40);
}

INSTANTIATE_TEST_SUITE_P(NaturalSyntheticAnomaly,
                         EveryMode,
                         ::testing::ValuesIn(ValidModePairs()),
                         [](const ::testing::TestParamInfo<std::pair<std::string, std::string>> & info) {
                           std::string name = info.param.first + "_" + info.param.second;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(NaturalSyntheticAnomaly, ContinuousLabelNeedsAnInterpolatedBlend)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::PoissonMixed;
  p.label_mode = nsa::LabelMode::Continuous;
  EXPECT_THROW(Synthesise<2>(p, 1, 64), itk::ExceptionObject);
}

TEST(NaturalSyntheticAnomaly, SameSeedSameHashDifferentSeedDifferentHash)
{
  nsa::SynthesisParameters p;
  p.num_patches = 4;
  const auto a = Synthesise<2>(p, 5, 128);
  const auto b = Synthesise<2>(p, 5, 128);
  const auto c = Synthesise<2>(p, 6, 128);
  EXPECT_EQ(Hash(a.filter->GetOutput()), Hash(b.filter->GetOutput()));
  EXPECT_EQ(Hash(a.filter->GetLabelOutput()), Hash(b.filter->GetLabelOutput()));
  EXPECT_NE(Hash(a.filter->GetOutput()), Hash(c.filter->GetOutput()));
  EXPECT_NE(Hash(a.filter->GetLabelOutput()), Hash(c.filter->GetLabelOutput()));
}

TEST(NaturalSyntheticAnomaly, ThreadCountDoesNotChangeTheResult)
{
  for (const char * blend : BlendModes)
  {
    nsa::SynthesisParameters p;
    p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
    p.num_patches = 4;
    p.label_mode = nsa::LabelMode::LogisticIntensity;
    // Boxes above the single-thread threshold of 32768 voxels: without resizing (whose width
    // clipping would bound boxes by 0.45 * 72 = 32 voxels a side) they span 29-64 voxels a side.
    p.width_bounds = { 0.2, 0.45 };
    p.resize = false;
    p.label_median_radius = 2;
    const auto one = Synthesise<3>(p, 17, 72, 1);
    const auto many = Synthesise<3>(p, 17, 72, 4);
    EXPECT_EQ(Hash(one.filter->GetOutput()), Hash(many.filter->GetOutput())) << blend;
    EXPECT_EQ(Hash(one.filter->GetLabelOutput()), Hash(many.filter->GetLabelOutput())) << blend;
  }
}

// Swap without resizing copies the source box voxel for voxel to the destination box.
TEST(NaturalSyntheticAnomaly, SwapCopiesTheSourcePatch)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::Swap;
  p.label_mode = nsa::LabelMode::Binary;
  p.resize = false;
  p.num_patches = 1;
  // Same spacing for source and destination (MakeImage uses one geometry).
  const auto   run = Synthesise<2>(p, 3, 96);
  const auto & patch = run.filter->GetRecord().patches[0];
  ASSERT_EQ(patch.status, nsa::PatchStatus::Blended);
  ASSERT_EQ(patch.source_size, patch.destination_size);
  for (long y = 0; y < patch.destination_size[1]; ++y)
  {
    for (long x = 0; x < patch.destination_size[0]; ++x)
    {
      const itk::Index<2> d{ { patch.destination_index[0] + x, patch.destination_index[1] + y } };
      const itk::Index<2> s{ { patch.source_index[0] + x, patch.source_index[1] + y } };
      ASSERT_EQ(run.filter->GetOutput()->GetPixel(d), run.source->GetPixel(s));
    }
  }
}

// Uniform: (1 - f) destination + f source, f in interpolation_bounds and recorded.
TEST(NaturalSyntheticAnomaly, UniformInterpolatesWithTheRecordedFactor)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::Uniform;
  p.label_mode = nsa::LabelMode::Continuous;
  p.resize = false;
  p.num_patches = 1;
  const auto   run = Synthesise<2>(p, 4, 96);
  const auto & record = run.filter->GetRecord();
  const auto & patch = record.patches[0];
  ASSERT_EQ(patch.status, nsa::PatchStatus::Blended);
  const double f = record.interpolation_factor;
  EXPECT_GE(f, p.interpolation_bounds[0]);
  EXPECT_LE(f, p.interpolation_bounds[1]);
  const itk::Index<2> d{ { patch.destination_index[0] + 2, patch.destination_index[1] + 3 } };
  const itk::Index<2> s{ { patch.source_index[0] + 2, patch.source_index[1] + 3 } };
  // float arithmetic on values below 256: a few ulps of 256 (6e-5).
  EXPECT_NEAR(run.filter->GetOutput()->GetPixel(d),
              (1 - f) * run.destination->GetPixel(d) + f * run.source->GetPixel(s), 1e-4);
  // The continuous label is the factor inside the cleaned change mask.
  EXPECT_NEAR(run.filter->GetLabelOutput()->GetPixel(d), f, 1e-7);
}

// Computing labels only near the patches gives exactly the label of the whole image.
TEST(NaturalSyntheticAnomaly, LocalLabelEqualsWholeImageLabel)
{
  for (const char * labelMode : { "binary", "intensity", "logistic-intensity" })
  {
    nsa::SynthesisParameters p;
    p.blend_mode = nsa::BlendMode::Swap;
    p.label_mode = nsa::FromString<nsa::LabelMode>(labelMode);
    p.num_patches = 4;
    p.label_intensity_scale = 100.0;
    auto run = Synthesise<2>(p, 12, 128);
    // Without object masks the replaced voxels are the union of the destination boxes.
    using MaskType = itk::Image<unsigned char, 2>;
    auto mask = MaskType::New();
    mask->CopyInformation(run.destination);
    mask->SetRegions(run.destination->GetLargestPossibleRegion());
    mask->Allocate();
    mask->FillBuffer(0);
    for (const auto & patch : run.filter->GetRecord().patches)
    {
      if (patch.status == nsa::PatchStatus::Blended)
      {
        itk::ImageRegion<2> box({ { patch.destination_index[0], patch.destination_index[1] } },
                                { { static_cast<itk::SizeValueType>(patch.destination_size[0]),
                                    static_cast<itk::SizeValueType>(patch.destination_size[1]) } });
        itk::ImageRegionIterator<MaskType> m(mask, box);
        for (; !m.IsAtEnd(); ++m)
        {
          m.Set(1);
        }
      }
    }
    using LabelFilterType = itk::SyntheticAnomalyLabelImageFilter<itk::Image<float, 2>>;
    auto whole = LabelFilterType::New();
    whole->SetOriginalImage(run.destination);
    whole->SetAnomalousImage(run.filter->GetOutput());
    whole->SetPatchMask(mask);
    whole->SetLabelMode(p.label_mode);
    whole->SetTolerance(p.label_tolerance);
    whole->SetLogisticK(p.logistic_k);
    whole->SetLogisticX0(p.logistic_x0);
    whole->SetIntensityScale(100.0);
    whole->Update();
    EXPECT_EQ(Hash(whole->GetOutput()), Hash(run.filter->GetLabelOutput())) << labelMode;
  }
}

// Multi-component images share one geometry: three identical channels give, channel by
// channel, the scalar result.
TEST(NaturalSyntheticAnomaly, VectorImageSharesOneGeometry)
{
  for (const char * blend : { "poisson-mixed", "uniform" })
  {
    nsa::SynthesisParameters p;
    p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
    p.num_patches = 3;
    p.label_intensity_scale = 100.0;
    const auto scalar = Synthesise<2>(p, 31, 80);
    using VectorType = itk::VectorImage<float, 2>;
    auto toVector = [](const itk::Image<float, 2> * image) {
      auto vector = VectorType::New();
      vector->CopyInformation(image);
      vector->SetRegions(image->GetLargestPossibleRegion());
      vector->SetNumberOfComponentsPerPixel(3);
      vector->Allocate();
      itk::ImageRegionConstIterator<itk::Image<float, 2>> in(image, image->GetLargestPossibleRegion());
      itk::ImageRegionIterator<VectorType>                out(vector, image->GetLargestPossibleRegion());
      for (; !in.IsAtEnd(); ++in, ++out)
      {
        itk::VariableLengthVector<float> value(3);
        value.Fill(in.Get());
        out.Set(value);
      }
      return vector;
    };
    auto filter = itk::NaturalSyntheticAnomalyImageFilter<VectorType>::New();
    filter->SetDestinationImage(toVector(scalar.destination));
    filter->SetSourceImage(toVector(scalar.source));
    filter->SetParameters(p);
    filter->SetSeed(31);
    filter->Update();
    EXPECT_EQ(filter->GetRecord().ToJson(), scalar.filter->GetRecord().ToJson());
    EXPECT_EQ(filter->GetOutput()->GetNumberOfComponentsPerPixel(), 3u);
    double worst = 0.0;
    itk::ImageRegionConstIterator<itk::Image<float, 2>> s(scalar.filter->GetOutput(),
                                                         scalar.destination->GetLargestPossibleRegion());
    itk::ImageRegionConstIterator<VectorType>           v(filter->GetOutput(), scalar.destination->GetLargestPossibleRegion());
    for (; !s.IsAtEnd(); ++s, ++v)
    {
      for (unsigned int c = 0; c < 3; ++c)
      {
        worst = std::max(worst, std::abs(static_cast<double>(v.Get()[c]) - s.Get()));
      }
    }
    // The Poisson solve stops at a relative residual of 1e-6 (PoissonBlendImageFilter's
    // default), about 1e-6 * 200 on values of this image, per component.
    EXPECT_LT(worst, 1e-3) << blend;
    double labelDifference = 0.0;
    itk::ImageRegionConstIterator<itk::Image<float, 2>> a(scalar.filter->GetLabelOutput(),
                                                         scalar.destination->GetLargestPossibleRegion());
    itk::ImageRegionConstIterator<itk::Image<float, 2>> b(filter->GetLabelOutput(),
                                                         scalar.destination->GetLargestPossibleRegion());
    for (; !a.IsAtEnd(); ++a, ++b)
    {
      labelDifference = std::max(labelDifference, static_cast<double>(std::abs(a.Get() - b.Get())));
    }
    // Same tolerance through the logistic slope k = 21.25 per normalised unit (scale 100).
    EXPECT_LT(labelDifference, 1e-3) << blend;
  }
}

TEST(NaturalSyntheticAnomaly, WithoutSourceTheDestinationIsItsOwnSource)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::Swap;
  p.resize = false;
  p.num_patches = 1;
  auto destination = MakeImage<2>(64, 0.0);
  auto result = nsa::Synthesize<2>(destination, nullptr, nullptr, nullptr, p, nsa::RandomStream(1));
  const auto & patch = result.record.patches[0];
  ASSERT_EQ(patch.status, nsa::PatchStatus::Blended);
  const itk::Index<2> d{ { patch.destination_index[0] + 1, patch.destination_index[1] + 1 } };
  const itk::Index<2> s{ { patch.source_index[0] + 1, patch.source_index[1] + 1 } };
  EXPECT_EQ(result.image->GetPixel(d), destination->GetPixel(s));
}

// A patch that cannot be placed leaves the image unchanged and the label empty; it is
// recorded, not thrown.
TEST(NaturalSyntheticAnomaly, UnplaceablePatchIsReportedNotFatal)
{
  nsa::SynthesisParameters p;
  p.object_mask = nsa::ObjectMask::Background;
  p.background_intensity = 100.0;
  p.background_tolerance = 1000.0; // everything is background
  p.num_patches = 2;
  auto destination = MakeImage<2>(64, 0.0);
  auto result = nsa::Synthesize<2>(destination, nullptr, nullptr, nullptr, p, nsa::RandomStream(1));
  EXPECT_EQ(result.record.NumberOfBlendedPatches(), 0u);
  EXPECT_EQ(result.record.patches[0].status, nsa::PatchStatus::NoSourceLocation);
  EXPECT_EQ(Hash(result.image.GetPointer()), Hash(destination.GetPointer()));
  const auto json = result.record.ToJson();
  EXPECT_EQ(json["patches"][0]["status"], "no-source-location");
}

TEST(NaturalSyntheticAnomaly, ObjectMaskFromBackground)
{
  nsa::SynthesisParameters p;
  p.object_mask = nsa::ObjectMask::Background;
  p.background_intensity = 0.0;
  p.background_tolerance = 10.0;
  auto image = MakeImage<2>(64, 0.0);
  // Background: the left quarter.
  itk::ImageRegionIteratorWithIndex<itk::Image<float, 2>> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    if (it.GetIndex()[0] < 3 + 16)
    {
      it.Set(it.GetIndex()[1] == 20 ? 50.0f : 0.0f); // a one-voxel line of grain the median removes
    }
  }
  auto mask = nsa::ComputeObjectMask<2>(image, p);
  ASSERT_TRUE(mask);
  EXPECT_EQ(mask->GetPixel({ { 5, 20 } }), 0);
  EXPECT_EQ(mask->GetPixel({ { 5, 40 } }), 0);
  EXPECT_EQ(mask->GetPixel({ { 40, 40 } }), 1);
}

TEST(NaturalSyntheticAnomaly, ObjectErosionKeepsTheInteriorInPhysicalUnits)
{
  // A "head": a bright disc of radius 24 mm on a 0.5 x 1 mm grid, with a dark ring (a
  // sulcus-like gap at 10-12 mm) and a dark blob (a ventricle) inside it. Eroded by 6 mm,
  // the object is the disc's interior: the gap and the blob are filled, and the edge goes by
  // 6 mm along each axis (12 voxels along x, 6 along y).
  nsa::SynthesisParameters p;
  p.object_mask = nsa::ObjectMask::Threshold;
  p.object_threshold = 50.0;
  p.object_median_radius = 0;
  using ImageType = itk::Image<float, 2>;
  auto                 image = ImageType::New();
  ImageType::SizeType  size{ { 128, 64 } };
  ImageType::SpacingType spacing;
  spacing[0] = 0.5;
  spacing[1] = 1.0;
  image->SetRegions(size);
  image->SetSpacing(spacing);
  image->Allocate();
  itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const double x = 0.5 * (it.GetIndex()[0] - 64);
    const double y = 1.0 * (it.GetIndex()[1] - 32);
    const double r = std::sqrt(x * x + y * y);
    const bool   gap = r > 10.0 && r < 12.0;
    const bool   blob = std::hypot(x - 4.0, y) < 3.0;
    it.Set(r < 24.0 && !gap && !blob ? 100.0f : 0.0f);
  }
  const auto plain = nsa::ComputeObjectMask<2>(image, p);
  p.object_erosion = 6.0;
  const auto eroded = nsa::ComputeObjectMask<2>(image, p);
  ASSERT_TRUE(plain && eroded);
  // The blob (4 mm along x) and the gap (11 mm) are not object as computed, but they are
  // inside the filled outline.
  EXPECT_EQ(plain->GetPixel({ { 64 + 8, 32 } }), 0);
  EXPECT_EQ(eroded->GetPixel({ { 64 + 8, 32 } }), 1);
  EXPECT_EQ(plain->GetPixel({ { 64 + 22, 32 } }), 0);
  EXPECT_EQ(eroded->GetPixel({ { 64 + 22, 32 } }), 1);
  // Along x (0.5 mm voxels): the edge is at 24 mm = 48 voxels from the centre; 6 mm deeper is
  // 36 voxels out. Along y (1 mm voxels): 24 and 18 voxels.
  EXPECT_EQ(eroded->GetPixel({ { 64 + 35, 32 } }), 1);
  EXPECT_EQ(eroded->GetPixel({ { 64 + 37, 32 } }), 0);
  EXPECT_EQ(plain->GetPixel({ { 64 + 37, 32 } }), 1);
  EXPECT_EQ(eroded->GetPixel({ { 64, 32 + 17 } }), 1);
  EXPECT_EQ(eroded->GetPixel({ { 64, 32 + 19 } }), 0);
  EXPECT_EQ(plain->GetPixel({ { 64, 32 + 21 } }), 1);
  // Erosion deeper than the object leaves nothing, which the patch sampler reports per patch.
  p.object_erosion = 30.0;
  const auto gone = nsa::ComputeObjectMask<2>(image, p);
  itk::ImageRegionConstIterator<itk::Image<unsigned char, 2>> g(gone, gone->GetLargestPossibleRegion());
  unsigned long                                               count = 0;
  for (; !g.IsAtEnd(); ++g)
  {
    count += g.Get();
  }
  EXPECT_EQ(count, 0u);
}

TEST(LogisticCalibration, SaturatesAtTheFortiethPercentile)
{
  nsa::SynthesisParameters p;
  p.num_patches = 2;
  p.label_intensity_scale = 100.0;
  std::vector<itk::Image<float, 2>::Pointer> images{ MakeImage<2>(64, 0.0), MakeImage<2>(64, 2.0),
                                                      MakeImage<2>(64, 4.0) };
  const auto calibration = nsa::CalibrateLogisticLabel<2>(images, p, nsa::RandomStream(1), 12);
  EXPECT_EQ(calibration.samples, 12u);
  EXPECT_GT(calibration.voxels, 0u);
  const double k = calibration.logistic_k, x0 = calibration.logistic_x0;
  EXPECT_NEAR(1.0 / (1.0 + std::exp(k * x0)), 0.1, 1e-12);
  EXPECT_NEAR(1.0 / (1.0 + std::exp(-k * (calibration.change_percentile_40 - x0))), 0.99, 1e-12);
}

// The interpolation factor has its own random stream: a seed gives the same patches for every
// blend mode, so that blend modes can be compared on equal geometry.
TEST(NaturalSyntheticAnomaly, GeometryDoesNotDependOnTheBlendMode)
{
  std::vector<nlohmann::json> boxes;
  for (const char * blend : BlendModes)
  {
    nsa::SynthesisParameters p;
    p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
    p.num_patches = 4;
    const auto     run = Synthesise<2>(p, 77, 96);
    nlohmann::json geometry = nlohmann::json::array();
    for (const auto & patch : run.filter->GetRecord().patches)
    {
      geometry.push_back({ patch.source_index, patch.source_size, patch.destination_index, patch.destination_size });
    }
    boxes.push_back(geometry);
  }
  for (const auto & geometry : boxes)
  {
    EXPECT_EQ(geometry, boxes.front());
  }
}

TEST(NaturalSyntheticAnomaly, PrintSelfShowsParametersAndRecord)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::Swap;
  const auto         run = Synthesise<2>(p, 2, 64);
  std::ostringstream text;
  run.filter->Print(text);
  EXPECT_NE(text.str().find("blend_mode=swap"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(std::to_string(run.filter->GetRecord().NumberOfBlendedPatches()) + " of " + std::to_string(p.num_patches) + " patches blended ("),
            std::string::npos)
    << text.str();
}

TEST(LogisticCalibration, WorksOnVolumes)
{
  nsa::SynthesisParameters p;
  p.num_patches = 1;
  p.width_bounds = { 0.1, 0.4 };
  p.label_mask_median_radius = 1;
  p.label_median_radius = 1;
  std::vector<itk::Image<float, 3>::Pointer> images{ MakeImage<3>(32, 0.0), MakeImage<3>(32, 2.0) };
  const auto calibration = nsa::CalibrateLogisticLabel<3>(images, p, nsa::RandomStream(3), 4);
  EXPECT_GT(calibration.voxels, 0u);
  EXPECT_GT(calibration.logistic_k, 0.0);
  EXPECT_NEAR(calibration.logistic_x0 * calibration.logistic_k, std::log(9.0), 1e-12);
}

#include "itkIdentityTransform.h"
#include "itkResampleImageFilter.h"
#include "itkVectorImage.h"

namespace
{

// ResampleLinear (the filter's per-patch resize) against the ResampleImageFilter pipeline it
// replaces: same geometry, same linear interpolator, identity transform; bit for bit, for
// shrinking and enlarging boxes, an oblique direction, and several work units.
template <typename TImage>
void
CompareResampleLinearWithResampleImageFilter(const typename TImage::SizeType & inputSize,
                                             const typename TImage::SizeType & outputSize,
                                             unsigned int                      components,
                                             unsigned int                      units)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  auto                   input = TImage::New();
  input->SetRegions(inputSize);
  input->SetNumberOfComponentsPerPixel(components);
  typename TImage::SpacingType   spacing;
  typename TImage::PointType     origin;
  typename TImage::DirectionType direction;
  direction.SetIdentity();
  for (unsigned int axis = 0; axis < Dimension; ++axis)
  {
    spacing[axis] = 0.7 + 0.3 * axis;
    origin[axis] = -12.5 + 3.25 * axis;
  }
  const double angle = 0.3;
  direction[0][0] = std::cos(angle);
  direction[0][1] = -std::sin(angle);
  direction[1][0] = std::sin(angle);
  direction[1][1] = std::cos(angle);
  input->SetSpacing(spacing);
  input->SetOrigin(origin);
  input->SetDirection(direction);
  input->Allocate();
  nsa::RandomStream stream(inputSize[0], outputSize[0], components, nsa::RandomPurpose::Test);
  auto *            buffer = input->GetBufferPointer();
  for (std::size_t i = 0; i < input->GetBufferedRegion().GetNumberOfPixels() * components; ++i)
  {
    buffer[i] = static_cast<float>(stream.Normal(50.0, 30.0));
  }
  // The output grid as the NSA filter builds it: spacing scaled by n / m, first sample at
  // continuous index (1/2) n / m - 1/2.
  itk::ContinuousIndex<double, Dimension> firstSample;
  typename TImage::SpacingType            outputSpacing;
  for (unsigned int axis = 0; axis < Dimension; ++axis)
  {
    const double ratio = static_cast<double>(inputSize[axis]) / static_cast<double>(outputSize[axis]);
    firstSample[axis] = 0.5 * ratio - 0.5;
    outputSpacing[axis] = spacing[axis] * ratio;
  }
  typename TImage::PointType outputOrigin;
  input->TransformContinuousIndexToPhysicalPoint(firstSample, outputOrigin);

  using InterpolatorType = itk::LinearInterpolateImageFunction<TImage, double>;
  auto resample = itk::ResampleImageFilter<TImage, TImage>::New();
  resample->SetInput(input);
  resample->SetTransform(itk::IdentityTransform<double, Dimension>::New());
  resample->SetInterpolator(InterpolatorType::New());
  resample->SetSize(outputSize);
  resample->SetOutputOrigin(outputOrigin);
  resample->SetOutputSpacing(outputSpacing);
  resample->SetOutputDirection(direction);
  resample->SetNumberOfWorkUnits(units);
  resample->Update();

  auto output = TImage::New();
  output->SetRegions(outputSize);
  output->SetNumberOfComponentsPerPixel(components);
  output->SetOrigin(outputOrigin);
  output->SetSpacing(outputSpacing);
  output->SetDirection(direction);
  output->Allocate();
  auto interpolator = InterpolatorType::New();
  interpolator->SetInputImage(input);
  auto threader = itk::MultiThreaderBase::New();
  itk::NaturalSyntheticAnomalyDetail::ResampleLinear(input.GetPointer(), interpolator.GetPointer(), output.GetPointer(),
                                                     threader.GetPointer(), units);

  const std::size_t values = output->GetBufferedRegion().GetNumberOfPixels() * components;
  ASSERT_EQ(resample->GetOutput()->GetBufferedRegion(), output->GetBufferedRegion());
  EXPECT_EQ(std::memcmp(resample->GetOutput()->GetBufferPointer(), output->GetBufferPointer(), values * sizeof(float)), 0);
}

} // namespace

TEST(NaturalSyntheticAnomaly, ResampleLinearEqualsResampleImageFilter)
{
  using Image2 = itk::Image<float, 2>;
  using Image3 = itk::Image<float, 3>;
  using Vector2 = itk::VectorImage<float, 2>;
  CompareResampleLinearWithResampleImageFilter<Image2>({ { 17, 9 } }, { { 40, 23 } }, 1, 1);  // enlarge
  CompareResampleLinearWithResampleImageFilter<Image2>({ { 64, 31 } }, { { 25, 20 } }, 1, 1); // shrink
  CompareResampleLinearWithResampleImageFilter<Image2>({ { 13, 13 } }, { { 13, 13 } }, 1, 3); // same size
  CompareResampleLinearWithResampleImageFilter<Image3>({ { 11, 7, 9 } }, { { 19, 5, 14 } }, 1, 1);
  CompareResampleLinearWithResampleImageFilter<Image3>({ { 30, 28, 26 } }, { { 41, 37, 33 } }, 1, 4);
  CompareResampleLinearWithResampleImageFilter<Vector2>({ { 21, 15 } }, { { 33, 10 } }, 3, 2);
}

// SynthesizeInto reuses the caller's buffers (issue 17: the data loader's case) and gives the
// bits Synthesize gives: for several samples in a row through the same buffers (each sample
// overwrites everything the previous one left), in 2D and 3D; buffers of another size are
// replaced, and a buffer that aliases an input is refused.
TEST(NaturalSyntheticAnomaly, SynthesizeIntoReusesBuffersWithTheSameBits)
{
  // Hash() runs an in-place filter that takes the buffer of the image it hashes: compare
  // the buffers byte for byte instead.
  auto same = [](const auto * a, const auto * b) {
    const std::size_t count = a->GetBufferedRegion().GetNumberOfPixels();
    return a->GetBufferedRegion().GetSize() == b->GetBufferedRegion().GetSize() &&
           std::memcmp(a->GetBufferPointer(), b->GetBufferPointer(), count * sizeof(float)) == 0;
  };
  nsa::SynthesisParameters p;
  p.num_patches = 4;
  p.blend_mode = nsa::BlendMode::PoissonMixed;
  p.label_mode = nsa::LabelMode::LogisticIntensity;
  const auto destination = MakeImage<2>(64, 0.0);
  const auto source = MakeImage<2>(64, 1.3);
  nsa::SynthesisResult<2> reused;
  nsa::SynthesizeInto<2>(reused, destination, source, nullptr, nullptr, p, nsa::RandomStream(9, 0, 0), 1);
  const float * imageBuffer = reused.image->GetBufferPointer();
  const float * labelBuffer = reused.label->GetBufferPointer();
  for (std::uint64_t index = 1; index < 6; ++index)
  {
    SCOPED_TRACE(index);
    const nsa::RandomStream stream(9, 0, index);
    const auto fresh = nsa::Synthesize<2>(destination, source, nullptr, nullptr, p, stream, 1);
    nsa::SynthesizeInto<2>(reused, destination, source, nullptr, nullptr, p, stream, 1);
    EXPECT_EQ(reused.image->GetBufferPointer(), imageBuffer);
    EXPECT_EQ(reused.label->GetBufferPointer(), labelBuffer);
    EXPECT_TRUE(same(reused.image.GetPointer(), fresh.image.GetPointer()));
    EXPECT_TRUE(same(reused.label.GetPointer(), fresh.label.GetPointer()));
    EXPECT_EQ(reused.image->GetLargestPossibleRegion(), destination->GetLargestPossibleRegion());
    EXPECT_EQ(reused.image->GetOrigin(), destination->GetOrigin());
    EXPECT_EQ(reused.image->GetDirection(), destination->GetDirection());
    EXPECT_EQ(reused.record.ToJson(), fresh.record.ToJson());
  }

  // 3D, through buffers that held a 2D-sized sample before: a new grid gets new buffers.
  const auto volume = MakeImage<3>(24, 0.0);
  const auto volumeSource = MakeImage<3>(24, 1.3);
  nsa::SynthesisResult<3> result3;
  result3.image = itk::Image<float, 3>::New();
  result3.image->SetRegions(itk::Size<3>{ { 5, 5, 5 } });
  result3.image->Allocate();
  nsa::SynthesizeInto<3>(result3, volume, volumeSource, nullptr, nullptr, p, nsa::RandomStream(4, 1, 2), 1);
  const auto fresh3 = nsa::Synthesize<3>(volume, volumeSource, nullptr, nullptr, p, nsa::RandomStream(4, 1, 2), 1);
  EXPECT_EQ(result3.image->GetBufferedRegion(), volume->GetLargestPossibleRegion());
  EXPECT_TRUE(same(result3.image.GetPointer(), fresh3.image.GetPointer()));
  EXPECT_TRUE(same(result3.label.GetPointer(), fresh3.label.GetPointer()));
  const float * volumeBuffer = result3.image->GetBufferPointer();
  nsa::SynthesizeInto<3>(result3, volume, volumeSource, nullptr, nullptr, p, nsa::RandomStream(4, 1, 2), 1);
  EXPECT_EQ(result3.image->GetBufferPointer(), volumeBuffer);
  EXPECT_TRUE(same(result3.image.GetPointer(), fresh3.image.GetPointer()));

  // The destination itself as the output buffer would overwrite the input while reading it.
  nsa::SynthesisResult<2> aliased;
  aliased.image = const_cast<itk::Image<float, 2> *>(destination.GetPointer());
  EXPECT_THROW(
    nsa::SynthesizeInto<2>(aliased, destination, source, nullptr, nullptr, p, nsa::RandomStream(9, 0, 0), 1),
    nsa::InputError);
}
