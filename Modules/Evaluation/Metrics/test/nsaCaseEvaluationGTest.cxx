#include "nsaCaseEvaluation.h"

#include "nsaError.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>

namespace
{
template <unsigned int D>
struct Images
{
  using Map = itk::Image<float, D>;
  using Mask = itk::Image<unsigned char, D>;
};

template <typename TImage>
typename TImage::Pointer
MakeImage(const std::array<unsigned long, TImage::ImageDimension> & size, typename TImage::PixelType value)
{
  auto                       image = TImage::New();
  typename TImage::SizeType  itkSize;
  for (unsigned int d = 0; d < TImage::ImageDimension; ++d)
  {
    itkSize[d] = size[d];
  }
  image->SetRegions(itkSize);
  image->Allocate();
  image->FillBuffer(value);
  return image;
}

template <typename TImage>
void
Set(TImage * image, const std::array<long, TImage::ImageDimension> & index, typename TImage::PixelType value)
{
  typename TImage::IndexType itkIndex;
  for (unsigned int d = 0; d < TImage::ImageDimension; ++d)
  {
    itkIndex[d] = index[d];
  }
  image->SetPixel(itkIndex, value);
}

// Sums of per-voxel component weights miss a whole component by at most size / 2^64;
// 1e-12 is far above that and far below any difference the tests look for.
constexpr double kProTolerance = 1e-12;
} // namespace

TEST(CaseEvaluation, AreaUnderPro2DTwoComponents)
{
  // 10 x 10 image. Component A: 2 x 2 square, all scored 0.9. Component B: a 1 x 4 bar, two
  // voxels 0.9 and two 0.2. Negatives: 10 voxels at 0.5, the other 82 at 0.1.
  // Thresholds 0.9: FPR 0, PRO (1 + 1/2)/2 = 3/4; 0.5: FPR 10/92; 0.2: PRO 1; 0.1: FPR 1.
  // Area to 0.3 = 3/4 * 10/92 + (0.3 - 10/92); normalised: 1 - (1/4)(10/92)/0.3.
  using T = Images<2>;
  auto map = MakeImage<T::Map>({ 10, 10 }, 0.1f);
  auto truth = MakeImage<T::Mask>({ 10, 10 }, 0);
  for (long x : { 1, 2 })
    for (long y : { 1, 2 })
    {
      Set(truth.GetPointer(), { x, y }, 1);
      Set(map.GetPointer(), { x, y }, 0.9f);
    }
  for (long x = 5; x < 9; ++x)
  {
    Set(truth.GetPointer(), { x, 7 }, 1);
    Set(map.GetPointer(), { x, 7 }, x < 7 ? 0.9f : 0.2f);
  }
  for (long x = 0; x < 10; ++x)
  {
    Set(map.GetPointer(), { x, 9 }, 0.5f);
  }
  nsa::VoxelEvaluationOptions options;
  const auto                  result = nsa::EvaluateCaseVoxels<2>(map, truth, nullptr, options);
  EXPECT_EQ(result.components, 2u);
  EXPECT_EQ(result.lesionVoxels, 8u);
  EXPECT_EQ(result.evaluatedVoxels, 100u);
  EXPECT_NEAR(*nsa::AreaUnderProCurve(result.table, result.components), 1.0 - 0.25 * (10.0 / 92.0) / 0.3,
              kProTolerance);
  // Dice at 0.5: TP 6 (A and half of B), FP 10 (the 0.5 row), FN 2.
  EXPECT_EQ(result.counts.truePositives, 6u);
  EXPECT_EQ(result.counts.falsePositives, 10u);
  EXPECT_EQ(result.counts.falseNegatives, 2u);
  EXPECT_NEAR(nsa::DiceFromCounts(result.counts), 12.0 / 24.0, 1e-15);
  EXPECT_EQ(result.lesionSlice, 7); // the bar's row holds 4 lesion voxels, rows 1 and 2 hold 2
  EXPECT_FLOAT_EQ(static_cast<float>(result.maxScore), 0.9f);
}

TEST(CaseEvaluation, AreaUnderPro3DComponentsOfDifferentSize)
{
  // 8 x 8 x 8 volume. A 2x2x2 cube fully detected (score 1) and a 3x3x3 cube with one of its
  // three slices detected; everything else 0. Threshold 1: FPR 0, PRO (1 + 9/27)/2 = 2/3;
  // threshold 0: (1, 1). At FPR 0.3: PRO 2/3 + 0.3/3 = 0.7667; area/0.3 = (2/3 + 0.7667)/2 = 43/60.
  using T = Images<3>;
  auto map = MakeImage<T::Map>({ 8, 8, 8 }, 0.0f);
  auto truth = MakeImage<T::Mask>({ 8, 8, 8 }, 0);
  for (long z = 0; z < 2; ++z)
    for (long y = 0; y < 2; ++y)
      for (long x = 0; x < 2; ++x)
      {
        Set(truth.GetPointer(), { x, y, z }, 1);
        Set(map.GetPointer(), { x, y, z }, 1.0f);
      }
  for (long z = 4; z < 7; ++z)
    for (long y = 4; y < 7; ++y)
      for (long x = 4; x < 7; ++x)
      {
        Set(truth.GetPointer(), { x, y, z }, 255);
        Set(map.GetPointer(), { x, y, z }, z == 5 ? 1.0f : 0.0f);
      }
  const auto result = nsa::EvaluateCaseVoxels<3>(map, truth, nullptr, nsa::VoxelEvaluationOptions());
  EXPECT_EQ(result.components, 2u);
  EXPECT_NEAR(*nsa::AreaUnderProCurve(result.table, result.components), 43.0 / 60.0, kProTolerance);
  // Voxel AUROC: 17 positives at 1, 18 at 0 tied with all 477 negatives at 0.
  EXPECT_NEAR(*nsa::AreaUnderRocCurve(result.table), (17.0 + 18.0 * 0.5) / 35.0, 1e-15);
}

TEST(CaseEvaluation, ConnectivityDecidesComponents)
{
  // Two voxels that touch at a corner: one component with full connectivity, two with face
  // connectivity. Scores: one detected (1), one missed (0).
  using T = Images<3>;
  auto map = MakeImage<T::Map>({ 4, 4, 4 }, 0.0f);
  auto truth = MakeImage<T::Mask>({ 4, 4, 4 }, 0);
  Set(truth.GetPointer(), { 1, 1, 1 }, 1);
  Set(truth.GetPointer(), { 2, 2, 2 }, 1);
  Set(map.GetPointer(), { 1, 1, 1 }, 1.0f);
  nsa::VoxelEvaluationOptions full;
  nsa::VoxelEvaluationOptions face;
  face.fullyConnected = false;
  EXPECT_EQ(nsa::EvaluateCaseVoxels<3>(map, truth, nullptr, full).components, 1u);
  EXPECT_EQ(nsa::EvaluateCaseVoxels<3>(map, truth, nullptr, face).components, 2u);
}

TEST(CaseEvaluation, RegionRestrictsEverything)
{
  // 1D-like 2D image 8 x 1. Region = first 6 voxels. Truth at 4..6 (voxel 6 outside).
  using T = Images<2>;
  auto map = MakeImage<T::Map>({ 8, 1 }, 0.0f);
  auto truth = MakeImage<T::Mask>({ 8, 1 }, 0);
  auto region = MakeImage<T::Mask>({ 8, 1 }, 0);
  for (long x = 0; x < 6; ++x)
  {
    Set(region.GetPointer(), { x, 0 }, 1);
  }
  for (long x = 4; x < 7; ++x)
  {
    Set(truth.GetPointer(), { x, 0 }, 1);
    Set(map.GetPointer(), { x, 0 }, 0.8f);
  }
  Set(map.GetPointer(), { 7, 0 }, 5.0f); // outside: neither a false positive nor the maximum
  const auto result = nsa::EvaluateCaseVoxels<2>(map, truth, region, nsa::VoxelEvaluationOptions());
  EXPECT_EQ(result.evaluatedVoxels, 6u);
  EXPECT_EQ(result.lesionVoxels, 2u);
  EXPECT_EQ(result.table.Negatives(), 4u);
  EXPECT_EQ(result.counts.falsePositives, 0u);
  EXPECT_FLOAT_EQ(static_cast<float>(result.maxScore), 0.8f);
  EXPECT_EQ(*nsa::AreaUnderRocCurve(result.table), 1.0);
  // The mean score is the toolkit's case score: the whole map.
  // 0.8f differs from 0.8 by 1.2e-8; the mean of the float map is exact otherwise.
  EXPECT_NEAR(result.meanScore, (3 * 0.8 + 5.0) / 8.0, 1e-8);
}

TEST(CaseEvaluation, NormalCaseHasOnlyNegatives)
{
  using T = Images<2>;
  auto       map = MakeImage<T::Map>({ 5, 5 }, 0.25f);
  const auto result = nsa::EvaluateCaseVoxels<2>(map, nullptr, nullptr, nsa::VoxelEvaluationOptions());
  EXPECT_EQ(result.components, 0u);
  EXPECT_EQ(result.table.Negatives(), 25u);
  EXPECT_EQ(result.lesionSlice, -1);
}

TEST(CaseEvaluation, MismatchedGridAndBadInputThrow)
{
  using T = Images<2>;
  auto map = MakeImage<T::Map>({ 5, 5 }, 0.0f);
  auto truth = MakeImage<T::Mask>({ 5, 6 }, 0);
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, truth, nullptr, nsa::VoxelEvaluationOptions()), nsa::InputError);
  auto shifted = MakeImage<T::Mask>({ 5, 5 }, 0);
  T::Mask::PointType origin;
  origin.Fill(0.5);
  shifted->SetOrigin(origin);
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, shifted, nullptr, nsa::VoxelEvaluationOptions()), nsa::InputError);
  // A hundredth of a voxel is another grid; the float32 rounding of a NIfTI header
  // (1e-5 mm at 1 mm spacing) is not.
  origin.Fill(0.01);
  shifted->SetOrigin(origin);
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, shifted, nullptr, nsa::VoxelEvaluationOptions()), nsa::InputError);
  origin.Fill(1e-5);
  shifted->SetOrigin(origin);
  EXPECT_NO_THROW(nsa::EvaluateCaseVoxels<2>(map, shifted, nullptr, nsa::VoxelEvaluationOptions()));
  auto emptyRegion = MakeImage<T::Mask>({ 5, 5 }, 0);
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, nullptr, emptyRegion, nsa::VoxelEvaluationOptions()),
               nsa::InputError);
  Set(map.GetPointer(), { 2, 2 }, std::numeric_limits<float>::quiet_NaN());
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, nullptr, nullptr, nsa::VoxelEvaluationOptions()), nsa::InputError);
}

TEST(CaseEvaluation, ScoreBitsRoundAndCapTheTable)
{
  const float one = 1.0f;
  const float ulp = std::nextafter(one, 2.0f) - one; // 2^-23
  EXPECT_EQ(nsa::RoundScoreToBits(one + ulp, 22), one);               // tie -> even
  EXPECT_EQ(nsa::RoundScoreToBits(one + 3 * ulp, 22), one + 4 * ulp); // tie -> even (up)
  EXPECT_EQ(nsa::RoundScoreToBits(0.3f, 23), 0.3f);                   // 23 bits: exact
  EXPECT_EQ(nsa::RoundScoreToBits(-(one + 3 * ulp), 22), -(one + 4 * ulp));
  EXPECT_EQ(nsa::RoundScoreToBits(std::numeric_limits<float>::infinity(), 4),
            std::numeric_limits<float>::infinity());

  // A positive at 0.5 + 2^-20 and a negative at 0.5: distinct with 23 bits (AUROC 1), tied
  // with 8 bits (AUROC 1/2).
  using T = Images<2>;
  auto map = MakeImage<T::Map>({ 2, 1 }, 0.5f);
  auto truth = MakeImage<T::Mask>({ 2, 1 }, 0);
  Set(map.GetPointer(), { 1, 0 }, 0.5f + std::ldexp(1.0f, -20));
  Set(truth.GetPointer(), { 1, 0 }, 1);
  nsa::VoxelEvaluationOptions exact;
  nsa::VoxelEvaluationOptions coarse;
  coarse.scoreBits = 8;
  EXPECT_EQ(*nsa::AreaUnderRocCurve(nsa::EvaluateCaseVoxels<2>(map, truth, nullptr, exact).table), 1.0);
  EXPECT_EQ(*nsa::AreaUnderRocCurve(nsa::EvaluateCaseVoxels<2>(map, truth, nullptr, coarse).table), 0.5);
  coarse.scoreBits = 0;
  EXPECT_THROW(nsa::EvaluateCaseVoxels<2>(map, truth, nullptr, coarse), nsa::ParameterError);

  // Scores spread over [2^-10, 1): at most 2^8 values per power of two, 10 powers of two.
  auto noise = MakeImage<T::Map>({ 200, 200 }, 0.0f);
  for (size_t i = 0; i < 40000; ++i)
  {
    noise->GetBufferPointer()[i] = std::ldexp(1.0f + (i % 4999) / 5000.0f, -1 - static_cast<int>(i % 10));
  }
  nsa::VoxelEvaluationOptions eight;
  eight.scoreBits = 8;
  const auto table = nsa::EvaluateCaseVoxels<2>(noise, nullptr, nullptr, eight).table;
  EXPECT_LE(table.Entries().size(), 10u * 256u + 10u); // + rounding up into the next power of two
  EXPECT_GT(table.Entries().size(), 10u * 200u);
}
