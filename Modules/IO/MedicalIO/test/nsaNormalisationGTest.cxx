#include "nsaNormalisation.h"

#include "nsaError.h"
#include "nsaImageIO.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

namespace
{
using FloatImage3 = itk::Image<float, 3>;
using MaskImage3 = itk::Image<unsigned char, 3>;
const std::string Colin27 = std::string(NSA_EXTERNAL_DATA_DIR) + "/mricron/templates/ch2.nii.gz";

FloatImage3::Pointer
Ramp(unsigned int n, float offset = 0.0f)
{
  auto image = FloatImage3::New();
  image->SetRegions(FloatImage3::SizeType{ { n, 1, 1 } });
  image->Allocate();
  for (unsigned int i = 0; i < n; ++i)
  {
    image->GetBufferPointer()[i] = static_cast<float>(i) + offset;
  }
  return image;
}

/** Reference percentile by a full sort, in double (numpy's 'linear' definition). */
double
ReferencePercentile(std::vector<double> values, double p)
{
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * (values.size() - 1);
  const size_t i = static_cast<size_t>(rank);
  return i + 1 < values.size() ? values[i] + (rank - i) * (values[i + 1] - values[i]) : values[i];
}
} // namespace

TEST(Normalisation, WindowMapsHounsfieldUnits)
{
  nsa::NormalisationParameters p;
  p.mode = nsa::NormalisationMode::Window;
  p.window = { -1000.0, 1000.0 };
  auto image = Ramp(5);
  const float hu[5] = { -2000.f, -1000.f, 0.f, 500.f, 3000.f };
  std::copy(hu, hu + 5, image->GetBufferPointer());
  image->SetSpacing(std::vector<double>{ 0.5, 2.0, 3.0 }.data());
  const auto out = nsa::Normalise(image.GetPointer(), p);
  const float expected[5] = { 0.f, 0.f, 0.5f, 0.75f, 1.f };
  for (int i = 0; i < 5; ++i)
  {
    EXPECT_FLOAT_EQ(out->GetBufferPointer()[i], expected[i]) << i;
  }
  EXPECT_EQ(out->GetSpacing(), image->GetSpacing());
  p.clip = false;
  EXPECT_FLOAT_EQ(nsa::Normalise(image.GetPointer(), p)->GetBufferPointer()[0], -0.5f);
}

TEST(Normalisation, PercentileMatchesSortedReference)
{
  // Values 10..109 with the minimum (10) excluded as background: foreground 11..109.
  auto                         image = Ramp(100, 10.0f);
  nsa::NormalisationParameters p;
  p.mode = nsa::NormalisationMode::Percentile;
  p.percentiles = { 1.0, 99.0 };
  const auto mapping = nsa::ComputeNormalisation(image.GetPointer(), p);
  ASSERT_EQ(mapping.size(), 1u);
  std::vector<double> foreground;
  for (int v = 11; v < 110; ++v)
  {
    foreground.push_back(v);
  }
  // Interpolating two floats in double: exact to 1e-9 here.
  EXPECT_NEAR(mapping[0].inputLow, ReferencePercentile(foreground, 1.0), 1e-9);
  EXPECT_NEAR(mapping[0].inputHigh, ReferencePercentile(foreground, 99.0), 1e-9);
  EXPECT_NEAR(mapping[0].inputLow, 11.98, 1e-9); // rank 0.98 between 11 and 12

  // Threshold and mask select other foregrounds.
  p.foreground_threshold = 59.5;
  EXPECT_NEAR(nsa::ComputeNormalisation(image.GetPointer(), p)[0].inputLow, 60.0 + 0.01 * 49, 1e-9);
  auto mask = MaskImage3::New();
  mask->SetRegions(image->GetLargestPossibleRegion());
  mask->Allocate(true);
  mask->GetBufferPointer()[3] = 1;
  mask->GetBufferPointer()[7] = 1;
  p.percentiles = { 0.0, 100.0 };
  const auto masked = nsa::ComputeNormalisation(image.GetPointer(), p, mask.GetPointer());
  EXPECT_EQ(masked[0].inputLow, 13.0);
  EXPECT_EQ(masked[0].inputHigh, 17.0);
}

TEST(Normalisation, Colin27RobustScaling)
{
  const auto                   image = nsa::ReadImage<FloatImage3>(Colin27);
  nsa::NormalisationParameters p; // percentile 1..99 above the minimum, to [0, 1], clipped
  const auto                   mapping = nsa::ComputeNormalisation(image.GetPointer(), p);
  const float *                buffer = image->GetBufferPointer();
  const size_t                 count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  const float                  minimum = *std::min_element(buffer, buffer + count);
  std::vector<double>          foreground;
  for (size_t i = 0; i < count; ++i)
  {
    if (buffer[i] > minimum)
    {
      foreground.push_back(buffer[i]);
    }
  }
  ASSERT_GT(foreground.size(), count / 10);
  EXPECT_NEAR(mapping[0].inputLow, ReferencePercentile(foreground, 1.0), 1e-6);
  EXPECT_NEAR(mapping[0].inputHigh, ReferencePercentile(foreground, 99.0), 1e-6);
  const auto out = nsa::ApplyNormalisation(image.GetPointer(), mapping);
  const auto range = std::minmax_element(out->GetBufferPointer(), out->GetBufferPointer() + count);
  EXPECT_EQ(*range.first, 0.0f);
  EXPECT_EQ(*range.second, 1.0f);
}

TEST(Normalisation, PerChannelForVectorImages)
{
  using VectorImage = itk::VectorImage<float, 2>;
  auto image = VectorImage::New();
  image->SetRegions(VectorImage::SizeType{ { 3, 1 } });
  image->SetNumberOfComponentsPerPixel(2);
  image->Allocate();
  const float values[6] = { 0.f, 100.f, 5.f, 300.f, 10.f, 500.f }; // channel 0: 0..10, channel 1: 100..500
  std::copy(values, values + 6, image->GetBufferPointer());
  nsa::NormalisationParameters p;
  p.mode = nsa::NormalisationMode::MinMax;
  const auto out = nsa::Normalise(image.GetPointer(), p);
  const float expected[6] = { 0.f, 0.f, 0.5f, 0.5f, 1.f, 1.f };
  for (int i = 0; i < 6; ++i)
  {
    EXPECT_FLOAT_EQ(out->GetBufferPointer()[i], expected[i]) << i;
  }
}

TEST(Normalisation, RefusesEmptyOrConstantForeground)
{
  auto                         constant = Ramp(10);
  std::fill(constant->GetBufferPointer(), constant->GetBufferPointer() + 10, 3.0f);
  nsa::NormalisationParameters p;
  EXPECT_THROW(nsa::Normalise(constant.GetPointer(), p), nsa::InputError);
  p.mode = nsa::NormalisationMode::MinMax;
  EXPECT_THROW(nsa::Normalise(constant.GetPointer(), p), nsa::InputError);
  p.mode = nsa::NormalisationMode::Percentile;
  p.foreground_threshold = 1000.0;
  EXPECT_THROW(nsa::Normalise(Ramp(10).GetPointer(), p), nsa::InputError);
  auto smallMask = MaskImage3::New();
  smallMask->SetRegions(MaskImage3::SizeType{ { 2, 1, 1 } });
  smallMask->Allocate(true);
  p.foreground_threshold.reset();
  EXPECT_THROW(nsa::Normalise(Ramp(10).GetPointer(), p, smallMask.GetPointer()), nsa::ParameterError);
  p.window = { 5.0, 1.0 };
  p.mode = nsa::NormalisationMode::Window;
  EXPECT_THROW(nsa::Normalise(Ramp(10).GetPointer(), p), nsa::ParameterError);
}
