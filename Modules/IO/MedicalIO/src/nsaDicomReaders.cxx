// Reading DICOM Segmentation and Parametric Map objects back into ITK images (round trips
// of the writers in nsaDicomWriters.cxx, and SEG/PM files from other tools).

#include "nsaDicomHeaders.h"
#include "nsaDicomWriters.h"
#include "nsaError.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmpmap/dpmparametricmapiod.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>

namespace nsa
{

namespace
{

using FloatImage = itk::Image<float, 3>;

std::string
GetString(DcmItem * dataset, const DcmTagKey & tag)
{
  OFString value;
  return dataset->findAndGetOFStringArray(tag, value).good() ? value.c_str() : std::string();
}

/** Geometry of a multi-frame object of parallel slices on a regular grid, which may skip
 * slices (SEG writers often leave out empty ones); `sliceOfFrame[f]` is the slice of frame f. */
struct FrameGeometry
{
  FloatImage::Pointer      image;
  std::vector<size_t>      sliceOfFrame;
  std::vector<std::string> referencedInstances; // per slice, empty for slices without a frame
};

} // namespace

// Limits of the grid a SEG / PM is placed on (documented in Documentation/HostileInput.md):
// a few frames moved far apart would otherwise make a grid of thousands of empty slices.
const std::size_t DerivedObjectMaximumSlices = 4096;
const double      DerivedObjectMaximumExtent = 3000.0;     // mm along the slice normal
const std::size_t DerivedObjectMaximumVoxels = 1ull << 29; // 2 GiB of float voxels

namespace
{

std::string
Text(double value)
{
  std::ostringstream text;
  text << value;
  return text.str();
}

/** Image Orientation (Patient) of the shared functional groups: row and column directions in
 * `o`, their cross product (the slice normal) in `normal`; checked finite and orthonormal. */
void
ReadOrientation(FGPlaneOrientationPatient & orientation, const std::string & path, Float64 (&o)[6], double (&normal)[3])
{
  if (orientation.getImageOrientationPatient(o[0], o[1], o[2], o[3], o[4], o[5]).bad())
  {
    throw InputError("Cannot read '" + path + "': invalid Image Orientation (Patient)");
  }
  for (const Float64 value : o)
  {
    if (!std::isfinite(value))
    {
      throw InputError("Cannot read '" + path + "': Image Orientation (Patient) holds " + Text(value));
    }
  }
  normal[0] = o[1] * o[5] - o[2] * o[4];
  normal[1] = o[2] * o[3] - o[0] * o[5];
  normal[2] = o[0] * o[4] - o[1] * o[3];
  const double normalLength = std::sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
  if (!(std::abs(normalLength - 1.0) < 0.01))
  {
    throw InputError("Cannot read '" + path + "': Image Orientation (Patient) is not two orthogonal unit vectors");
  }
}

/** Pixel Spacing (two positive numbers, required) and the distance between slices: Spacing
 * Between Slices, else Slice Thickness, else 1 mm. */
void
ReadPixelMeasures(FGPixelMeasures & measures,
                  const std::string & path,
                  Float64 &         rowSpacing,
                  Float64 &         columnSpacing,
                  Float64 &         between)
{
  if (measures.getPixelSpacing(rowSpacing, 0).bad() || measures.getPixelSpacing(columnSpacing, 1).bad())
  {
    throw InputError("Cannot read '" + path + "': no Pixel Spacing");
  }
  if (!(std::isfinite(rowSpacing) && rowSpacing > 0.0 && std::isfinite(columnSpacing) && columnSpacing > 0.0))
  {
    throw InputError("Cannot read '" + path + "': Pixel Spacing " + Text(rowSpacing) + "\\" + Text(columnSpacing) +
                     " is not two positive numbers");
  }
  if (measures.getSpacingBetweenSlices(between).bad() || !(between > 0.0) || !std::isfinite(between))
  {
    if (measures.getSliceThickness(between).bad() || !(between > 0.0) || !std::isfinite(between))
    {
      between = 1.0;
    }
  }
}

/** Per frame: Image Position (Patient) (required, finite), its distance along the slice
 * normal, and the SOP Instance UID of its first source image (empty when none). */
void
ReadFramePositions(FGInterface &                        groups,
                   size_t                               frames,
                   const double (&normal)[3],
                   const std::string &                  path,
                   std::vector<std::array<double, 3>> & positions,
                   std::vector<double> &                along,
                   std::vector<std::string> &           references)
{
  positions.assign(frames, {});
  along.assign(frames, 0.0);
  references.assign(frames, std::string());
  for (size_t f = 0; f < frames; ++f)
  {
    auto * position = dynamic_cast<FGPlanePosPatient *>(groups.get(static_cast<Uint32>(f), DcmFGTypes::EFG_PLANEPOSPATIENT));
    if (position == nullptr ||
        position->getImagePositionPatient(positions[f][0], positions[f][1], positions[f][2]).bad())
    {
      throw InputError("Cannot read '" + path + "': frame " + std::to_string(f + 1) + " has no Image Position (Patient)");
    }
    for (const double value : positions[f])
    {
      if (!std::isfinite(value))
      {
        throw InputError("Cannot read '" + path + "': the Image Position (Patient) of frame " + std::to_string(f + 1) +
                         " holds " + Text(value));
      }
    }
    along[f] = normal[0] * positions[f][0] + normal[1] * positions[f][1] + normal[2] * positions[f][2];
    if (auto * derivation =
          dynamic_cast<FGDerivationImage *>(groups.get(static_cast<Uint32>(f), DcmFGTypes::EFG_DERIVATIONIMAGE)))
    {
      if (!derivation->getDerivationImageItems().empty() &&
          !derivation->getDerivationImageItems()[0]->getSourceImageItems().empty())
      {
        OFString uid;
        derivation->getDerivationImageItems()[0]->getSourceImageItems()[0]->getImageSOPInstanceReference()
          .getReferencedSOPInstanceUID(uid);
        references[f] = uid.c_str();
      }
    }
  }
}

/** The grid step: Spacing Between Slices when declared, else the smallest step between
 * frames in `order` (the frames may skip slices, never lie between them), else `between`. */
double
GridSpacing(FGPixelMeasures & measures, double between, const std::vector<double> & along, const std::vector<size_t> & order)
{
  Float64 declared = 0.0;
  if (measures.getSpacingBetweenSlices(declared).good() && declared > 0.0 && std::isfinite(declared))
  {
    return declared;
  }
  if (order.size() <= 1)
  {
    return between;
  }
  double spacing = std::numeric_limits<double>::max();
  for (size_t k = 1; k < order.size(); ++k)
  {
    const double step = along[order[k]] - along[order[k - 1]];
    if (step > 1e-4)
    {
      spacing = std::min(spacing, step);
    }
  }
  return spacing == std::numeric_limits<double>::max() ? between : spacing;
}

/** The grid's extent, slices and voxels within the limits for derived objects, checked
 * before any slice index is computed or any voxel allocated. */
void
CheckGridBounds(double extent, double spacing, Uint16 rows, Uint16 columns, const std::string & path)
{
  if (!(extent <= DerivedObjectMaximumExtent))
  {
    throw InputError("Cannot read '" + path + "': its frames lie " + Text(extent) +
                     " mm apart along the slice normal, more than the limit of " + Text(DerivedObjectMaximumExtent) +
                     " mm for the grid of a segmentation or parametric map");
  }
  const double gridSlices = std::round(extent / spacing) + 1.0;
  if (!(gridSlices <= static_cast<double>(DerivedObjectMaximumSlices)))
  {
    throw InputError("Cannot read '" + path + "': its frames span " + Text(gridSlices) + " slices of " + Text(spacing) +
                     " mm, more than the limit of " + std::to_string(DerivedObjectMaximumSlices) +
                     " slices for the grid of a segmentation or parametric map");
  }
  if (gridSlices * rows * columns > static_cast<double>(DerivedObjectMaximumVoxels))
  {
    throw InputError("Cannot read '" + path + "': its grid of " + std::to_string(columns) + " x " + std::to_string(rows) +
                     " x " + Text(gridSlices) + " voxels exceeds the limit of " +
                     std::to_string(DerivedObjectMaximumVoxels) + " voxels for a segmentation or parametric map");
  }
}

/** The grid slice of every frame (frames sorted along the normal in `order`), each on the
 * grid and no two at one position; returns the number of grid slices. */
size_t
AssignSlices(const std::vector<double> & along,
             const std::vector<size_t> & order,
             double                      spacing,
             const std::string &         path,
             std::vector<size_t> &       sliceOfFrame)
{
  sliceOfFrame.assign(order.size(), 0);
  size_t slices = 1;
  for (size_t k = 0; k < order.size(); ++k)
  {
    const double position = (along[order[k]] - along[order[0]]) / spacing;
    const double rounded = std::round(position);
    // Positions are written as decimal strings of up to 16 characters: 1e-3 of the
    // spacing (plus 1e-4 mm) covers their rounding.
    if (std::abs(position - rounded) * spacing > 1e-3 * spacing + 1e-4)
    {
      throw InputError("Cannot read '" + path + "': frame " + std::to_string(order[k] + 1) +
                       " is not on the grid of parallel slices " + std::to_string(spacing) + " mm apart");
    }
    if (k > 0 && static_cast<size_t>(rounded) == sliceOfFrame[order[k - 1]])
    {
      throw InputError("Cannot read '" + path + "': frames " + std::to_string(order[k - 1] + 1) + " and " +
                       std::to_string(order[k] + 1) + " are at the same position (several segments?)");
    }
    sliceOfFrame[order[k]] = static_cast<size_t>(rounded);
    slices = std::max(slices, static_cast<size_t>(rounded) + 1);
  }
  return slices;
}

FrameGeometry
ReadFrameGeometry(FGInterface & groups, Uint16 rows, Uint16 columns, size_t frames, const std::string & path)
{
  if (frames == 0)
  {
    throw InputError("Cannot read '" + path + "': it has no frames");
  }
  if (rows == 0 || columns == 0)
  {
    throw InputError("Cannot read '" + path + "': Rows or Columns is 0");
  }
  auto * orientation = dynamic_cast<FGPlaneOrientationPatient *>(groups.get(0, DcmFGTypes::EFG_PLANEORIENTPATIENT));
  auto * measures = dynamic_cast<FGPixelMeasures *>(groups.get(0, DcmFGTypes::EFG_PIXELMEASURES));
  if (orientation == nullptr || measures == nullptr)
  {
    throw InputError("Cannot read '" + path + "': no Plane Orientation or Pixel Measures functional group");
  }
  Float64 o[6];
  double  normal[3];
  ReadOrientation(*orientation, path, o, normal);
  Float64 rowSpacing = 0.0, columnSpacing = 0.0, between = 0.0;
  ReadPixelMeasures(*measures, path, rowSpacing, columnSpacing, between);
  std::vector<std::array<double, 3>> positions;
  std::vector<double>                along;
  std::vector<std::string>           references;
  ReadFramePositions(groups, frames, normal, path, positions, along, references);

  std::vector<size_t> order(frames);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&along](size_t a, size_t b) { return along[a] < along[b]; });
  const double spacing = GridSpacing(*measures, between, along, order);
  CheckGridBounds(along[order[frames - 1]] - along[order[0]], spacing, rows, columns, path);
  FrameGeometry geometry;
  const size_t  slices = AssignSlices(along, order, spacing, path, geometry.sliceOfFrame);

  auto image = FloatImage::New();
  image->SetRegions(FloatImage::SizeType{ { columns, rows, slices } });
  const double imageSpacing[3] = { columnSpacing, rowSpacing, spacing };
  image->SetSpacing(imageSpacing);
  image->SetOrigin(positions[order[0]].data());
  FloatImage::DirectionType direction;
  for (unsigned int i = 0; i < 3; ++i)
  {
    direction(i, 0) = o[i];
    direction(i, 1) = o[3 + i];
    direction(i, 2) = normal[i];
  }
  image->SetDirection(direction);
  image->Allocate(true);
  geometry.image = image;
  geometry.referencedInstances.assign(slices, std::string());
  for (size_t f = 0; f < frames; ++f)
  {
    geometry.referencedInstances[geometry.sliceOfFrame[f]] = references[f];
  }
  if (std::all_of(geometry.referencedInstances.begin(), geometry.referencedInstances.end(),
                  [](const std::string & s) { return s.empty(); }))
  {
    geometry.referencedInstances.clear();
  }
  return geometry;
}

void
ReadCommon(DcmDataset * dataset, DerivedDicomObject & object)
{
  object.sopClassUid = GetString(dataset, DCM_SOPClassUID);
  object.studyInstanceUid = GetString(dataset, DCM_StudyInstanceUID);
  object.seriesInstanceUid = GetString(dataset, DCM_SeriesInstanceUID);
  object.frameOfReferenceUid = GetString(dataset, DCM_FrameOfReferenceUID);
  object.patientId = GetString(dataset, DCM_PatientID);
  DcmItem * series = nullptr;
  if (dataset->findAndGetSequenceItem(DCM_ReferencedSeriesSequence, series, 0).good() && series != nullptr)
  {
    object.referencedSeriesInstanceUid = GetString(series, DCM_SeriesInstanceUID);
  }
}

/** DCMTK's SEG and Parametric Map loaders dereference what a dataset without the right SOP
 * Class UID lacks (a fuzzed file whose (0008,0016) tag was moved crashed inside
 * DPMParametricMapIOD::loadDataset): refuse any other class before calling them. */
void
RequireSopClass(const DerivedDicomObject & object, const char * expected, const char * what, const std::string & path)
{
  if (object.sopClassUid != expected)
  {
    throw InputError("Cannot read '" + path + "' as a " + what + ": its SOP Class UID (0008,0016) is " +
                     (object.sopClassUid.empty() ? std::string("missing") : "'" + object.sopClassUid.substr(0, 80) + "'") +
                     ", expected " + expected);
  }
}

std::unique_ptr<DcmFileFormat>
LoadFile(const std::string & path)
{
  detail::QuietDcmtk();
  auto              format = std::make_unique<DcmFileFormat>();
  const OFCondition status = format->loadFile(path.c_str());
  if (status.bad())
  {
    throw InputError("Cannot read DICOM file '" + path + "': " + status.text());
  }
  return format;
}

} // namespace

DerivedDicomObject
ReadDicomSegmentation(const std::string & path)
{
  auto               format = LoadFile(path);
  DcmDataset *       dataset = format->getDataset();
  DerivedDicomObject object;
  ReadCommon(dataset, object);
  RequireSopClass(object, UID_SegmentationStorage, "DICOM Segmentation", path);
  DcmSegmentation * loaded = nullptr;
  const OFCondition status = DcmSegmentation::loadDataset(*dataset, loaded);
  std::unique_ptr<DcmSegmentation> seg(loaded);
  if (status.bad() || !seg)
  {
    throw InputError("Cannot read '" + path + "' as a DICOM Segmentation: " + status.text());
  }
  if (seg->getNumberOfSegments() != 1)
  {
    throw InputError("Cannot read '" + path + "': it has " + std::to_string(seg->getNumberOfSegments()) +
                     " segments; one is supported");
  }
  OFString label;
  if (DcmSegment * segment = seg->getSegment(1))
  {
    segment->getSegmentLabel(label);
  }
  object.segmentLabel = label.c_str();
  // DCMTK loads no frame of a Segmentation whose Segmentation Type (0062,0001) is missing or
  // unknown, and its getFrame() then indexes an empty list (a SIGSEGV the seg_pm fuzz target
  // found): only binary and fractional segmentations go on.
  const DcmSegTypes::E_SegmentationType type = seg->getSegmentationType();
  if (type != DcmSegTypes::ST_BINARY && type != DcmSegTypes::ST_FRACTIONAL)
  {
    throw InputError("Cannot read '" + path +
                     "': its Segmentation Type (0062,0001) is missing or neither BINARY nor FRACTIONAL");
  }
  const bool fractional = type == DcmSegTypes::ST_FRACTIONAL;
  object.segmentationType = fractional ? "FRACTIONAL" : "BINARY";
  Uint16 rows = 0, columns = 0, maxFractional = 255;
  dataset->findAndGetUint16(DCM_Rows, rows);
  dataset->findAndGetUint16(DCM_Columns, columns);
  if (fractional)
  {
    dataset->findAndGetUint16(DCM_MaximumFractionalValue, maxFractional);
    if (maxFractional == 0)
    {
      throw InputError("Cannot read '" + path + "': Maximum Fractional Value is 0");
    }
  }
  const size_t  frames = seg->getNumberOfFrames();
  FrameGeometry geometry = ReadFrameGeometry(seg->getFunctionalGroups(), rows, columns, frames, path);
  const size_t  count = static_cast<size_t>(rows) * columns;
  for (size_t f = 0; f < frames; ++f)
  {
    const size_t               k = geometry.sliceOfFrame[f];
    const DcmIODTypes::Frame * frame = seg->getFrame(f);
    if (frame == nullptr)
    {
      throw InputError("Cannot read '" + path + "': frame " + std::to_string(f + 1) + " is missing");
    }
    std::unique_ptr<DcmIODTypes::Frame> unpacked;
    const Uint8 *                       pixels = frame->pixData;
    if (!fractional)
    {
      unpacked.reset(DcmSegUtils::unpackBinaryFrame(frame, rows, columns));
      if (!unpacked)
      {
        throw InputError("Cannot read '" + path + "': cannot unpack binary frame " + std::to_string(f + 1));
      }
      pixels = unpacked->pixData;
    }
    else if (frame->length < count)
    {
      throw InputError("Cannot read '" + path + "': frame " + std::to_string(f + 1) + " is truncated");
    }
    float * slice = geometry.image->GetBufferPointer() + k * count;
    for (size_t i = 0; i < count; ++i)
    {
      slice[i] = fractional ? static_cast<float>(pixels[i]) / static_cast<float>(maxFractional)
                            : (pixels[i] != 0 ? 1.0f : 0.0f);
    }
  }
  object.image = geometry.image;
  object.referencedSopInstanceUids = geometry.referencedInstances;
  return object;
}

DerivedDicomObject
ReadParametricMap(const std::string & path)
{
  auto               format = LoadFile(path);
  DcmDataset *       dataset = format->getDataset();
  DerivedDicomObject object;
  ReadCommon(dataset, object);
  RequireSopClass(object, UID_ParametricMapStorage, "DICOM Parametric Map", path);
  OFvariant<OFCondition, DPMParametricMapIOD *> loaded = DPMParametricMapIOD::loadDataset(*dataset);
  if (OFCondition * error = OFget<OFCondition>(&loaded))
  {
    throw InputError("Cannot read '" + path + "' as a DICOM Parametric Map: " + error->text());
  }
  std::unique_ptr<DPMParametricMapIOD> pm(*OFget<DPMParametricMapIOD *>(&loaded));
  Uint16                               rows = 0, columns = 0;
  pm->getRows(rows);
  pm->getColumns(columns);
  const size_t                    frames = pm->getNumberOfFrames();
  FrameGeometry                   geometry = ReadFrameGeometry(pm->getFunctionalGroups(), rows, columns, frames, path);
  const size_t                    count = static_cast<size_t>(rows) * columns;
  DPMParametricMapIOD::FramesType typed = pm->getFrames();
  auto *                          floats = OFget<DPMParametricMapIOD::Frames<Float32>>(&typed);
  auto *                          doubles = OFget<DPMParametricMapIOD::Frames<Float64>>(&typed);
  if (floats == nullptr && doubles == nullptr)
  {
    throw InputError("Cannot read '" + path + "': only float32 and float64 Parametric Maps are supported");
  }
  for (size_t f = 0; f < frames; ++f)
  {
    float * slice = geometry.image->GetBufferPointer() + geometry.sliceOfFrame[f] * count;
    if (floats != nullptr)
    {
      const Float32 * data = floats->getFrame(f);
      if (data == nullptr)
      {
        throw InputError("Cannot read '" + path + "': frame " + std::to_string(f + 1) + " is missing");
      }
      std::copy(data, data + count, slice);
    }
    else
    {
      const Float64 * data = doubles->getFrame(f);
      if (data == nullptr)
      {
        throw InputError("Cannot read '" + path + "': frame " + std::to_string(f + 1) + " is missing");
      }
      std::transform(data, data + count, slice, [](Float64 v) { return static_cast<float>(v); });
    }
  }
  object.image = geometry.image;
  object.referencedSopInstanceUids = geometry.referencedInstances;
  return object;
}

} // namespace nsa
