#include "nsaIOTestData.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace nsa
{
namespace test
{

namespace
{
std::string
NewUid()
{
  char buffer[100];
  dcmGenerateUniqueIdentifier(buffer, SITE_INSTANCE_UID_ROOT);
  return buffer;
}

std::string
Decimals(const double * values, unsigned int count)
{
  std::ostringstream out;
  out.precision(10);
  for (unsigned int i = 0; i < count; ++i)
  {
    out << (i ? "\\" : "") << values[i];
  }
  return out.str();
}

void
Direction(const CtSeriesSpec & spec, double row[3], double column[3], double normal[3])
{
  const double angle = spec.oblique ? 20.0 * M_PI / 180.0 : 0.0;
  row[0] = 1.0;
  row[1] = 0.0;
  row[2] = 0.0;
  column[0] = 0.0;
  column[1] = std::cos(angle);
  column[2] = std::sin(angle);
  normal[0] = row[1] * column[2] - row[2] * column[1];
  normal[1] = row[2] * column[0] - row[0] * column[2];
  normal[2] = row[0] * column[1] - row[1] * column[0];
}

void
Check(const OFCondition & status, const std::string & what)
{
  if (status.bad())
  {
    throw std::runtime_error("test data: " + what + ": " + status.text());
  }
}
} // namespace

unsigned short
CtStoredValue(unsigned int x, unsigned int y, unsigned int z)
{
  // 0..~2200 stored, i.e. about -1024..1200 HU with the default intercept.
  return static_cast<unsigned short>(20 * x + 100 * y + 300 * z + 24);
}

std::vector<std::string>
WriteCtSeries(const std::string & folder, const CtSeriesSpec & spec)
{
  fs::create_directories(folder);
  const std::string studyUid = spec.studyInstanceUid.empty() ? NewUid() : spec.studyInstanceUid;
  const std::string seriesUid = spec.seriesInstanceUid.empty() ? NewUid() : spec.seriesInstanceUid;
  const std::string frameUid = NewUid();
  double row[3], column[3], normal[3];
  Direction(spec, row, column, normal);
  std::vector<std::string> files;
  for (int z = static_cast<int>(spec.slices) - 1; z >= 0; --z)
  {
    if (z == spec.skipSlice)
    {
      continue;
    }
    DcmFileFormat format;
    DcmDataset *  d = format.getDataset();
    const double  offset = z * spec.sliceSpacing + (z > 0 ? spec.extraGapAfterSlice : 0.0);
    double        position[3];
    for (int i = 0; i < 3; ++i)
    {
      position[i] = spec.origin[i] + offset * normal[i] + z * spec.shearPerSlice * row[i];
    }
    const double orientation[6] = { row[0], row[1], row[2], column[0], column[1], column[2] };
    Check(d->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage), "SOP class");
    Check(d->putAndInsertString(DCM_SOPInstanceUID, NewUid().c_str()), "SOP instance");
    d->putAndInsertString(DCM_StudyInstanceUID, studyUid.c_str());
    d->putAndInsertString(DCM_SeriesInstanceUID, seriesUid.c_str());
    d->putAndInsertString(DCM_FrameOfReferenceUID, frameUid.c_str());
    d->putAndInsertString(DCM_Modality, "CT");
    d->putAndInsertString(DCM_PatientName, "Phantom^Synthetic");
    d->putAndInsertString(DCM_PatientID, "NSA-TEST-001");
    d->putAndInsertString(DCM_PatientBirthDate, "19700101");
    d->putAndInsertString(DCM_PatientSex, "O");
    d->putAndInsertString(DCM_StudyDate, "20220101");
    d->putAndInsertString(DCM_StudyTime, "120000");
    d->putAndInsertString(DCM_StudyID, "S1");
    d->putAndInsertString(DCM_AccessionNumber, "A1");
    d->putAndInsertString(DCM_ReferringPhysicianName, "");
    d->putAndInsertString(DCM_SeriesNumber, "3");
    d->putAndInsertString(DCM_InstanceNumber, std::to_string(z + 1).c_str());
    d->putAndInsertString(DCM_Manufacturer, "NSA Toolkit tests");
    d->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
    d->putAndInsertString(DCM_ImagePositionPatient, Decimals(position, 3).c_str());
    d->putAndInsertString(DCM_ImageOrientationPatient, Decimals(orientation, 6).c_str());
    d->putAndInsertString(DCM_PixelSpacing, Decimals(spec.pixelSpacing, 2).c_str());
    d->putAndInsertString(DCM_SliceThickness, Decimals(&spec.sliceSpacing, 1).c_str());
    d->putAndInsertString(DCM_KVP, "120");
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    d->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    d->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
    d->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.columns));
    d->putAndInsertUint16(DCM_BitsAllocated, 16);
    d->putAndInsertUint16(DCM_BitsStored, 16);
    d->putAndInsertUint16(DCM_HighBit, 15);
    d->putAndInsertUint16(DCM_PixelRepresentation, 0);
    d->putAndInsertString(DCM_RescaleIntercept, Decimals(&spec.rescaleIntercept, 1).c_str());
    d->putAndInsertString(DCM_RescaleSlope, Decimals(&spec.rescaleSlope, 1).c_str());
    std::vector<Uint16> pixels(spec.rows * spec.columns);
    for (unsigned int y = 0; y < spec.rows; ++y)
    {
      for (unsigned int x = 0; x < spec.columns; ++x)
      {
        pixels[y * spec.columns + x] = CtStoredValue(x, y, static_cast<unsigned int>(z));
      }
    }
    Check(d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())),
          "pixel data");
    const std::string file = (fs::path(folder) / (spec.filePrefix + std::to_string(z) + ".dcm")).string();
    Check(format.saveFile(file.c_str(), EXS_LittleEndianExplicit), "save " + file);
    files.push_back(file);
  }
  return files;
}

void
WriteMultiFrameCt(const std::string & file, const CtSeriesSpec & spec)
{
  fs::create_directories(fs::path(file).parent_path());
  double row[3], column[3], normal[3];
  Direction(spec, row, column, normal);
  const double  orientation[6] = { row[0], row[1], row[2], column[0], column[1], column[2] };
  DcmFileFormat format;
  DcmDataset *  d = format.getDataset();
  d->putAndInsertString(DCM_SOPClassUID, UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage);
  d->putAndInsertString(DCM_SOPInstanceUID, NewUid().c_str());
  d->putAndInsertString(DCM_StudyInstanceUID, spec.studyInstanceUid.empty() ? NewUid().c_str() : spec.studyInstanceUid.c_str());
  d->putAndInsertString(DCM_SeriesInstanceUID,
                        spec.seriesInstanceUid.empty() ? NewUid().c_str() : spec.seriesInstanceUid.c_str());
  d->putAndInsertString(DCM_Modality, "OT");
  d->putAndInsertString(DCM_PatientName, "Phantom^Synthetic");
  d->putAndInsertString(DCM_PatientID, "NSA-TEST-002");
  d->putAndInsertString(DCM_ImagePositionPatient, Decimals(spec.origin, 3).c_str());
  d->putAndInsertString(DCM_ImageOrientationPatient, Decimals(orientation, 6).c_str());
  d->putAndInsertString(DCM_PixelSpacing, Decimals(spec.pixelSpacing, 2).c_str());
  d->putAndInsertString(DCM_SpacingBetweenSlices, Decimals(&spec.sliceSpacing, 1).c_str());
  d->putAndInsertString(DCM_NumberOfFrames, std::to_string(spec.slices).c_str());
  d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  d->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  d->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
  d->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.columns));
  d->putAndInsertUint16(DCM_BitsAllocated, 16);
  d->putAndInsertUint16(DCM_BitsStored, 16);
  d->putAndInsertUint16(DCM_HighBit, 15);
  d->putAndInsertUint16(DCM_PixelRepresentation, 0);
  std::vector<Uint16> pixels;
  for (unsigned int z = 0; z < spec.slices; ++z)
    for (unsigned int y = 0; y < spec.rows; ++y)
      for (unsigned int x = 0; x < spec.columns; ++x)
        pixels.push_back(CtStoredValue(x, y, z));
  Check(d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())),
        "pixel data");
  Check(format.saveFile(file.c_str(), EXS_LittleEndianExplicit), "save " + file);
}

itk::Image<float, 3>::Pointer
CtSeriesGeometry(const CtSeriesSpec & spec)
{
  auto image = itk::Image<float, 3>::New();
  image->SetRegions(itk::Image<float, 3>::SizeType{ { spec.columns, spec.rows, spec.slices } });
  const double spacing[3] = { spec.pixelSpacing[1], spec.pixelSpacing[0], spec.sliceSpacing };
  image->SetSpacing(spacing);
  image->SetOrigin(spec.origin);
  double row[3], column[3], normal[3];
  Direction(spec, row, column, normal);
  itk::Image<float, 3>::DirectionType direction;
  for (int i = 0; i < 3; ++i)
  {
    direction(i, 0) = row[i];
    direction(i, 1) = column[i];
    direction(i, 2) = normal[i];
  }
  image->SetDirection(direction);
  return image;
}

std::string
FreshFolder(const std::string & name)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "IO" / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder.string();
}

std::string
OutputPath(const std::string & name)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "IO";
  fs::create_directories(folder);
  return (folder / name).string();
}

} // namespace test
} // namespace nsa
