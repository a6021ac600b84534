#include "nsaDicomWriters.h"

#include "nsaAtomicOutput.h"
#include "nsaDicomHeaders.h"
#include "nsaError.h"
#include "nsaPreset.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>
#include <dcmtk/dcmdata/dcvrtm.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgframeanatomy.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmfg/fgparametricmapframetype.h>
#include <dcmtk/dcmfg/fgpixeltransform.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgrealworldvaluemapping.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmiod/iodcommn.h>
#include <dcmtk/dcmpmap/dpmparametricmapiod.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace nsa
{

namespace
{

using FloatImage = itk::Image<float, 3>;

void
Check(const OFCondition & status, const std::string & path, const std::string & what)
{
  if (status.bad())
  {
    throw OutputError("Cannot write '" + path + "': " + what + ": " + status.text());
  }
}

std::string
NewUid()
{
  char buffer[100];
  dcmGenerateUniqueIdentifier(buffer, SITE_INSTANCE_UID_ROOT);
  return buffer;
}

/** A decimal string of at most 16 characters (DICOM DS) with as many digits as fit. */
std::string
Decimal(double value)
{
  if (std::abs(value) < 1e-12)
  {
    value = 0.0;
  }
  char buffer[64];
  for (int precision = 15; precision > 0; --precision)
  {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strlen(buffer) <= 16)
    {
      break;
    }
  }
  return buffer;
}

std::string
Today()
{
  OFString date;
  DcmDate::getCurrentDate(date);
  return date.c_str();
}

std::string
Now()
{
  OFString time;
  DcmTime::getCurrentTime(time);
  return time.c_str();
}

std::string
VersionOf(const DicomDerivedOptions & options)
{
  return options.algorithmVersion.empty() ? std::string(Version()) : options.algorithmVersion;
}

/** How the map's slices relate to the source's instances. */
struct SliceReferences
{
  bool                     enabled = false;
  std::vector<std::string> classUids;    // per slice
  std::vector<std::string> instanceUids; // per slice
  std::vector<int>         frameNumbers; // per slice, 0: single-frame instance
};

SliceReferences
ResolveReferences(const FloatImage * map, const StudyMetadata & source, const std::string & path)
{
  SliceReferences references;
  if (!source.isDicom)
  {
    return references;
  }
  const auto & d = source.dicom;
  const auto   slices = map->GetLargestPossibleRegion().GetSize()[2];
  if (d.sopInstanceUids.size() == 1 && d.numberOfFrames.size() == 1 && d.numberOfFrames[0] > 1)
  {
    if (d.numberOfFrames[0] != slices)
    {
      throw ParameterError("Cannot write '" + path + "': the map has " + std::to_string(slices) +
                           " slices, the source multi-frame instance " + std::to_string(d.numberOfFrames[0]) +
                           " frames");
    }
    for (unsigned int k = 0; k < slices; ++k)
    {
      references.classUids.push_back(d.sopClassUids[0]);
      references.instanceUids.push_back(d.sopInstanceUids[0]);
      references.frameNumbers.push_back(static_cast<int>(k + 1));
    }
  }
  else
  {
    if (d.sopInstanceUids.size() != slices)
    {
      throw ParameterError("Cannot write '" + path + "': the map has " + std::to_string(slices) +
                           " slices, the source series " + std::to_string(d.sopInstanceUids.size()) +
                           " instances (the map must have the source's geometry)");
    }
    references.classUids = d.sopClassUids;
    references.instanceUids = d.sopInstanceUids;
    references.frameNumbers.assign(slices, 0);
    // Each frame will claim to be derived from the source instance of its slice: the slices
    // must lie where those instances are, within what nsa::ReadStudy accepts when it puts a
    // series on a regular grid: 20 % of a pixel in-plane, 10 % of the slice spacing along
    // the normal (plus 1e-3 mm for decimal strings).
    if (d.imagePositions.size() == slices)
    {
      const auto & spacing = map->GetSpacing();
      const double inPlaneTolerance = 1e-3 + 0.2 * std::min(spacing[0], spacing[1]);
      const double normalTolerance = 1e-3 + 0.1 * spacing[2];
      for (unsigned int k = 0; k < slices; ++k)
      {
        FloatImage::PointType point;
        map->TransformIndexToPhysicalPoint(itk::Index<3>{ { 0, 0, static_cast<itk::IndexValueType>(k) } }, point);
        double difference[3];
        double along = 0.0;
        for (unsigned int i = 0; i < 3; ++i)
        {
          difference[i] = point[i] - d.imagePositions[k][i];
          along += difference[i] * map->GetDirection()(i, 2);
        }
        double inPlane = 0.0;
        for (unsigned int i = 0; i < 3; ++i)
        {
          const double rest = difference[i] - along * map->GetDirection()(i, 2);
          inPlane += rest * rest;
        }
        if (std::sqrt(inPlane) > inPlaneTolerance || std::abs(along) > normalTolerance)
        {
          std::ostringstream message;
          message << "Cannot write '" << path << "': slice " << k << " of the map starts at " << point
                  << " mm, its source instance at [" << d.imagePositions[k][0] << ", " << d.imagePositions[k][1]
                  << ", " << d.imagePositions[k][2] << "] (the map must have the source's geometry)";
          throw ParameterError(message.str());
        }
      }
    }
  }
  references.enabled = true;
  return references;
}

/** Patient, study, series and frame of reference of a derived object. */
void
SetHierarchy(DcmIODCommon & iod, const StudyMetadata & source, const DicomDerivedOptions & options,
             const std::string & defaultDescription, const std::string & path)
{
  // Values copied from the source are taken as they are (OFFalse: no VR check), so that a
  // source with unusual but readable values still gets a derived object in its study.
  if (source.isDicom)
  {
    const auto & d = source.dicom;
    iod.getPatient().setPatientName(d.patientName.c_str(), OFFalse);
    iod.getPatient().setPatientID(d.patientId.c_str(), OFFalse);
    iod.getPatient().setPatientBirthDate(d.patientBirthDate.c_str(), OFFalse);
    iod.getPatient().setPatientSex(d.patientSex.c_str(), OFFalse);
    Check(iod.getStudy().setStudyInstanceUID(d.studyInstanceUid.c_str(), OFFalse), path, "Study Instance UID");
    iod.getStudy().setStudyDate(d.studyDate.c_str(), OFFalse);
    iod.getStudy().setStudyTime(d.studyTime.c_str(), OFFalse);
    iod.getStudy().setStudyID(d.studyId.c_str(), OFFalse);
    iod.getStudy().setAccessionNumber(d.accessionNumber.c_str(), OFFalse);
    iod.getStudy().setReferringPhysicianName(d.referringPhysicianName.c_str(), OFFalse);
    iod.getStudy().setStudyDescription(d.studyDescription.c_str(), OFFalse);
    const std::string frameOfReference = d.frameOfReferenceUid.empty() ? NewUid() : d.frameOfReferenceUid;
    Check(iod.getFrameOfReference().setFrameOfReferenceUID(frameOfReference.c_str(), OFFalse), path,
          "Frame of Reference UID");
    if (!d.bodyPartExamined.empty())
    {
      iod.getSeries().setBodyPartExamined(d.bodyPartExamined.c_str(), OFFalse);
    }
  }
  else
  {
    Check(iod.getPatient().setPatientName(options.patientName.c_str()), path, "Patient Name");
    Check(iod.getPatient().setPatientID(options.patientId.c_str()), path, "Patient ID");
    Check(iod.getStudy().setStudyInstanceUID(NewUid().c_str()), path, "Study Instance UID");
    iod.getStudy().setStudyDate(Today().c_str());
    iod.getStudy().setStudyTime(Now().c_str());
    Check(iod.getFrameOfReference().setFrameOfReferenceUID(NewUid().c_str()), path, "Frame of Reference UID");
  }
  iod.getFrameOfReference().setPositionReferenceIndicator("");
  Check(iod.getSeries().setSeriesInstanceUID(NewUid().c_str()), path, "Series Instance UID");
  Check(iod.getSeries().setSeriesNumber(std::to_string(options.seriesNumber).c_str()), path, "Series Number");
  Check(iod.getSeries().setSeriesDescription(
          (options.seriesDescription.empty() ? defaultDescription : options.seriesDescription).c_str()),
        path, "Series Description");
  iod.getSeries().setSeriesDate(Today().c_str());
  iod.getSeries().setSeriesTime(Now().c_str());
}

/** Referenced Series Sequence of the Common Instance Reference module. */
void
AddSeriesReference(DcmIODCommon & iod, const StudyMetadata & source, const SliceReferences & references)
{
  if (!references.enabled)
  {
    return;
  }
  auto * item = new IODSeriesAndInstanceReferenceMacro::ReferencedSeriesItem;
  item->setSeriesInstanceUID(source.dicom.seriesInstanceUid.c_str(), OFFalse);
  std::vector<std::string> added;
  for (size_t k = 0; k < references.instanceUids.size(); ++k)
  {
    if (std::find(added.begin(), added.end(), references.instanceUids[k]) == added.end())
    {
      item->addReference(references.classUids[k].c_str(), references.instanceUids[k].c_str());
      added.push_back(references.instanceUids[k]);
    }
  }
  iod.getCommonInstanceReference().getReferencedSeriesItems().push_back(item);
}

void
CheckGeometry(const FloatImage * map, const std::string & path)
{
  if (map == nullptr)
  {
    throw ParameterError("Cannot write '" + path + "': no image given");
  }
  const auto size = map->GetLargestPossibleRegion().GetSize();
  if (size[0] > 65535 || size[1] > 65535 || size[0] == 0 || size[1] == 0 || size[2] == 0)
  {
    std::ostringstream message;
    message << "Cannot write '" << path << "': a " << size << " image does not fit DICOM rows and columns";
    throw ParameterError(message.str());
  }
}

/** Shared geometry: pixel measures and plane orientation. */
template <typename TIOD>
void
AddSharedGeometry(TIOD & iod, const FloatImage * map, const std::string & path)
{
  const auto & spacing = map->GetSpacing();
  const auto & direction = map->GetDirection();
  FGPixelMeasures measures;
  // DICOM Pixel Spacing is row spacing (between rows, along y) then column spacing.
  Check(measures.setPixelSpacing((Decimal(spacing[1]) + "\\" + Decimal(spacing[0])).c_str()), path, "Pixel Spacing");
  Check(measures.setSliceThickness(Decimal(spacing[2]).c_str()), path, "Slice Thickness");
  Check(measures.setSpacingBetweenSlices(Decimal(spacing[2]).c_str()), path, "Spacing Between Slices");
  Check(iod.addForAllFrames(measures), path, "Pixel Measures");
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
    Decimal(direction(0, 0)).c_str(), Decimal(direction(1, 0)).c_str(), Decimal(direction(2, 0)).c_str(),
    Decimal(direction(0, 1)).c_str(), Decimal(direction(1, 1)).c_str(), Decimal(direction(2, 1)).c_str()));
  if (!orientation)
  {
    throw OutputError("Cannot write '" + path + "': invalid plane orientation");
  }
  Check(iod.addForAllFrames(*orientation), path, "Plane Orientation");
}

/** Per-frame groups of slice k: position, frame content, derivation. Owned by the caller. */
struct PerFrameGroups
{
  std::unique_ptr<FGPlanePosPatient>  position;
  std::unique_ptr<FGFrameContent>     content;
  std::unique_ptr<FGDerivationImage>  derivation;

  OFVector<FGBase *>
  Pointers() const
  {
    OFVector<FGBase *> groups;
    groups.push_back(position.get());
    groups.push_back(content.get());
    if (derivation)
    {
      groups.push_back(derivation.get());
    }
    return groups;
  }
};

PerFrameGroups
MakePerFrameGroups(const FloatImage * map, unsigned int k, const SliceReferences & references,
                   const std::vector<Uint32> & leadingIndices, const CodeSequenceMacro & derivationCode,
                   const std::string & derivationDescription, const std::string & path)
{
  PerFrameGroups      groups;
  itk::Index<3>       index{ { 0, 0, static_cast<itk::IndexValueType>(k) } };
  FloatImage::PointType point;
  map->TransformIndexToPhysicalPoint(index, point);
  groups.position.reset(
    FGPlanePosPatient::createMinimal(Decimal(point[0]).c_str(), Decimal(point[1]).c_str(), Decimal(point[2]).c_str()));
  groups.content.reset(new FGFrameContent);
  unsigned int dimension = 0;
  for (const Uint32 value : leadingIndices)
  {
    Check(groups.content->setDimensionIndexValues(value, dimension++), path, "Dimension Index Values");
  }
  Check(groups.content->setDimensionIndexValues(k + 1, dimension), path, "Dimension Index Values");
  if (references.enabled)
  {
    ImageSOPInstanceReferenceMacro reference;
    Check(reference.setReferencedSOPClassUID(references.classUids[k].c_str(), OFFalse), path, "Referenced SOP Class");
    Check(reference.setReferencedSOPInstanceUID(references.instanceUids[k].c_str(), OFFalse), path,
          "Referenced SOP Instance");
    if (references.frameNumbers[k] > 0)
    {
      OFVector<Uint16> frames;
      frames.push_back(static_cast<Uint16>(references.frameNumbers[k]));
      reference.setReferencedFrameNumber(frames);
    }
    OFVector<ImageSOPInstanceReferenceMacro> sources;
    sources.push_back(reference);
    groups.derivation.reset(FGDerivationImage::createMinimal(
      sources, derivationDescription.c_str(), derivationCode,
      CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
    if (!groups.derivation)
    {
      throw OutputError("Cannot write '" + path + "': cannot create the Derivation Image reference of slice " +
                        std::to_string(k));
    }
  }
  return groups;
}

template <typename TPixel>
std::vector<TPixel>
SlicePixels(const FloatImage * map, unsigned int k)
{
  const auto          size = map->GetLargestPossibleRegion().GetSize();
  const size_t        count = size[0] * size[1];
  const float *       slice = map->GetBufferPointer() + static_cast<size_t>(k) * count;
  std::vector<TPixel> pixels(count);
  std::copy(slice, slice + count, pixels.begin());
  return pixels;
}

void
CheckFiniteMap(const FloatImage * map, const std::string & path)
{
  const size_t  count = map->GetLargestPossibleRegion().GetNumberOfPixels();
  const float * buffer = map->GetBufferPointer();
  for (size_t i = 0; i < count; ++i)
  {
    if (!std::isfinite(buffer[i]))
    {
      throw InputError("Cannot write '" + path + "': the map has a non-finite value at voxel " +
                       std::to_string(i));
    }
  }
}

} // namespace

void
WriteDicomSegmentation(const FloatImage * map, const StudyMetadata & source, const std::string & path,
                       const SegmentationOptions & options)
{
  CheckGeometry(map, path);
  CheckFiniteMap(map, path);
  detail::QuietDcmtk();
  const SliceReferences references = ResolveReferences(map, source, path);
  const auto            size = map->GetLargestPossibleRegion().GetSize();
  if (options.fractional)
  {
    const auto range = std::minmax_element(map->GetBufferPointer(),
                                           map->GetBufferPointer() + map->GetLargestPossibleRegion().GetNumberOfPixels());
    if (*range.first < 0.0f || *range.second > 1.0f)
    {
      throw InputError("Cannot write '" + path + "' as a fractional segmentation: map values span [" +
                       std::to_string(*range.first) + ", " + std::to_string(*range.second) +
                       "], a probability map in [0, 1] is required");
    }
  }
  if (options.contentLabel.empty() || options.contentLabel.size() > 16)
  {
    throw ParameterError("SEG content label '" + options.contentLabel + "' must have 1 to 16 characters");
  }

  AtomicOutput output(path);
  const IODGeneralEquipmentModule::EquipmentInfo equipment(options.manufacturer.c_str(), "NSA Toolkit", "n/a",
                                                           VersionOf(options).c_str());
  const ContentIdentificationMacro identification(std::to_string(options.instanceNumber).c_str(),
                                                  options.contentLabel.c_str(), options.contentDescription.c_str(),
                                                  options.contentCreatorName.c_str());
  DcmSegmentation * created = nullptr;
  if (options.fractional)
  {
    Check(DcmSegmentation::createFractionalSegmentation(created, static_cast<Uint16>(size[1]),
                                                        static_cast<Uint16>(size[0]), DcmSegTypes::SFT_PROBABILITY, 255,
                                                        equipment, identification),
          path, "creating the segmentation");
  }
  else
  {
    Check(DcmSegmentation::createBinarySegmentation(created, static_cast<Uint16>(size[1]), static_cast<Uint16>(size[0]),
                                                    equipment, identification),
          path, "creating the segmentation");
  }
  std::unique_ptr<DcmSegmentation> seg(created);
  SetHierarchy(*seg, source, options, "NSA anomaly segmentation", path);
  seg->getGeneralImage().setContentDate(Today().c_str());
  seg->getGeneralImage().setContentTime(Now().c_str());

  DcmSegment * segment = nullptr;
  Check(DcmSegment::create(segment, options.segmentLabel.c_str(),
                           CodeSequenceMacro(options.category.value.c_str(), options.category.scheme.c_str(),
                                             options.category.meaning.c_str()),
                           CodeSequenceMacro(options.type.value.c_str(), options.type.scheme.c_str(),
                                             options.type.meaning.c_str()),
                           DcmSegTypes::SAT_AUTOMATIC, options.algorithmName.c_str()),
        path, "creating the segment");
  // Segmentation Algorithm Identification: family, name and version of the algorithm.
  AlgorithmIdentificationMacro & algorithm = segment->getSegmentationAlgorithmIdentification();
  Check(algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence"), path, "Algorithm Family");
  Check(algorithm.setAlgorithmName(options.algorithmName.c_str()), path, "Algorithm Name");
  Check(algorithm.setAlgorithmVersion(VersionOf(options).c_str()), path, "Algorithm Version");
  double L = 0.0, a = 0.0, b = 0.0;
  IODCIELabUtil::rgb2DicomLab(L, a, b, options.displayColour[0] / 255.0, options.displayColour[1] / 255.0,
                              options.displayColour[2] / 255.0);
  segment->setRecommendedDisplayCIELabValue(static_cast<Uint16>(L), static_cast<Uint16>(a), static_cast<Uint16>(b));
  Uint16 segmentNumber = 0;
  const OFCondition added = seg->addSegment(segment, segmentNumber);
  if (added.bad())
  {
    delete segment;
    Check(added, path, "adding the segment");
  }

  char dimensionUid[100];
  dcmGenerateUniqueIdentifier(dimensionUid, SITE_INSTANCE_UID_ROOT);
  Check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimensionUid,
                                               DCM_SegmentIdentificationSequence, "Referenced Segment Number"),
        path, "dimension index");
  Check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimensionUid, DCM_PlanePositionSequence,
                                               "Image Position Patient"),
        path, "dimension index");
  AddSharedGeometry(*seg, map, path);
  AddSeriesReference(*seg, source, references);

  std::vector<std::vector<Uint8>> frames(size[2], std::vector<Uint8>(size[0] * size[1]));
  std::vector<bool>               keep(size[2], true);
  for (unsigned int k = 0; k < size[2]; ++k)
  {
    std::vector<Uint8> & pixels = frames[k];
    const float *        slice = map->GetBufferPointer() + static_cast<size_t>(k) * pixels.size();
    for (size_t i = 0; i < pixels.size(); ++i)
    {
      pixels[i] = options.fractional ? static_cast<Uint8>(std::lround(slice[i] * 255.0f))
                                     : static_cast<Uint8>(slice[i] >= options.threshold ? 1 : 0);
    }
    keep[k] = !options.skipEmptySlices || std::any_of(pixels.begin(), pixels.end(), [](Uint8 v) { return v != 0; });
  }
  if (std::none_of(keep.begin(), keep.end(), [](bool k) { return k; }))
  {
    keep[0] = true; // a Segmentation holds at least one frame
  }
  for (unsigned int k = 0; k < size[2]; ++k)
  {
    if (!keep[k])
    {
      continue;
    }
    const PerFrameGroups groups = MakePerFrameGroups(
      map, k, references, { segmentNumber }, CodeSequenceMacro("113076", "DCM", "Segmentation"),
      options.fractional ? "Anomaly probability of the NSA model" : "Thresholded anomaly map of the NSA model", path);
    Check(seg->addFrame(frames[k].data(), segmentNumber, groups.Pointers()), path, "adding frame " + std::to_string(k));
  }
  Check(seg->saveFile(output.TemporaryPath().c_str(), EXS_LittleEndianExplicit), path, "saving");
  output.Commit();
}

void
WriteDicomSegmentation(const itk::Image<unsigned char, 3> * mask, const StudyMetadata & source,
                       const std::string & path, const SegmentationOptions & options)
{
  if (mask == nullptr)
  {
    throw ParameterError("Cannot write '" + path + "': no mask given");
  }
  auto map = FloatImage::New();
  map->CopyInformation(mask);
  map->SetRegions(mask->GetLargestPossibleRegion());
  map->Allocate();
  const size_t count = mask->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t i = 0; i < count; ++i)
  {
    map->GetBufferPointer()[i] = mask->GetBufferPointer()[i] > 0 ? 1.0f : 0.0f;
  }
  SegmentationOptions binary = options;
  binary.fractional = false;
  binary.threshold = 0.5;
  WriteDicomSegmentation(map.GetPointer(), source, path, binary);
}

void
WriteParametricMap(const FloatImage * map, const StudyMetadata & source, const std::string & path,
                   const ParametricMapOptions & options)
{
  CheckGeometry(map, path);
  CheckFiniteMap(map, path);
  detail::QuietDcmtk();
  const SliceReferences references = ResolveReferences(map, source, path);
  const auto            size = map->GetLargestPossibleRegion().GetSize();
  if (options.contentLabel.empty() || options.contentLabel.size() > 16)
  {
    throw ParameterError("Parametric Map content label '" + options.contentLabel + "' must have 1 to 16 characters");
  }
  AtomicOutput output(path);

  const IODEnhGeneralEquipmentModule::EquipmentInfo equipment(options.manufacturer.c_str(), "NSA Toolkit", "n/a",
                                                              VersionOf(options).c_str());
  const ContentIdentificationMacro identification(std::to_string(options.instanceNumber).c_str(),
                                                  options.contentLabel.c_str(), options.contentDescription.c_str(),
                                                  options.contentCreatorName.c_str());
  // Parametric Maps carry the modality of the source images they were computed from.
  const std::string modality = source.modality.empty() ? "OT" : source.modality;
  OFvariant<OFCondition, DPMParametricMapIOD> created = DPMParametricMapIOD::create<IODFloatingPointImagePixelModule>(
    modality.c_str(), std::to_string(options.seriesNumber).c_str(), std::to_string(options.instanceNumber).c_str(),
    static_cast<Uint16>(size[1]), static_cast<Uint16>(size[0]), equipment, identification, "VOLUME", "NONE",
    DPMTypes::CQ_RESEARCH);
  if (OFCondition * error = OFget<OFCondition>(&created))
  {
    Check(*error, path, "creating the parametric map");
  }
  DPMParametricMapIOD & pm = *OFget<DPMParametricMapIOD>(&created);
  SetHierarchy(pm, source, options, "NSA anomaly score", path);
  pm.getIODGeneralImageModule().setContentDate(Today().c_str());
  pm.getIODGeneralImageModule().setContentTime(Now().c_str());
  Check(pm.setRecognizableVisualFeatures(DPMTypes::RVF_NO), path, "Recognizable Visual Features");

  char dimensionUid[100];
  dcmGenerateUniqueIdentifier(dimensionUid, SITE_INSTANCE_UID_ROOT);
  Check(pm.getIODMultiframeDimensionModule().addDimensionIndex(DCM_ImagePositionPatient, dimensionUid,
                                                               DCM_PlanePositionSequence, "Image Position Patient"),
        path, "dimension index");
  AddSharedGeometry(pm, map, path);
  AddSeriesReference(pm, source, references);

  FGFrameAnatomy anatomy;
  Check(anatomy.setLaterality(FGFrameAnatomy::LATERALITY_UNPAIRED), path, "Frame Laterality");
  anatomy.getAnatomy().getAnatomicRegion().set(options.anatomicRegion.value.c_str(),
                                               options.anatomicRegion.scheme.c_str(),
                                               options.anatomicRegion.meaning.c_str());
  Check(pm.addForAllFrames(anatomy), path, "Frame Anatomy");
  FGPixelValueTransformation identity;
  identity.setUseAsIdentityPixelValueTransformation();
  Check(pm.addForAllFrames(identity), path, "Identity Pixel Value Transformation");
  FGParametricMapFrameType frameType;
  Check(frameType.setFrameType("DERIVED\\PRIMARY\\VOLUME\\NONE"), path, "Frame Type");
  Check(pm.addForAllFrames(frameType), path, "Parametric Map Frame Type");

  const size_t count = map->GetLargestPossibleRegion().GetNumberOfPixels();
  const auto   range = std::minmax_element(map->GetBufferPointer(), map->GetBufferPointer() + count);
  FGRealWorldValueMapping mapping;
  auto *                  item = new FGRealWorldValueMapping::RWVMItem;
  mapping.getRealWorldValueMapping().push_back(item); // owned by `mapping` from here on
  Check(item->setDoubleFloatRealWorldValueFirstValueMapped(*range.first), path, "first value mapped");
  Check(item->setDoubleFloatRealWorldValueLastValueMapped(*range.second), path, "last value mapped");
  Check(item->setRealWorldValueSlope(1.0), path, "Real World Value Slope");
  Check(item->setRealWorldValueIntercept(0.0), path, "Real World Value Intercept");
  Check(item->setLUTLabel(options.lutLabel.c_str()), path, "LUT Label");
  Check(item->setLUTExplanation(options.lutExplanation.c_str()), path, "LUT Explanation");
  Check(item->getMeasurementUnitsCode().set(options.units.value.c_str(), options.units.scheme.c_str(),
                                            options.units.meaning.c_str()),
        path, "Measurement Units");
  Check(pm.addForAllFrames(mapping), path, "Real World Value Mapping");

  DPMParametricMapIOD::FramesType frames = pm.getFrames();
  auto * floatFrames = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
  if (floatFrames == nullptr)
  {
    throw OutputError("Cannot write '" + path + "': the parametric map has no float32 frames");
  }
  for (unsigned int k = 0; k < size[2]; ++k)
  {
    const PerFrameGroups groups =
      MakePerFrameGroups(map, k, references, {}, CodeSequenceMacro("110001", "DCM", "Image Processing"),
                         "Anomaly score of the NSA model", path);
    std::vector<Float32> pixels = SlicePixels<Float32>(map, k);
    Check(floatFrames->addFrame(pixels.data(), pixels.size(), groups.Pointers()), path,
          "adding frame " + std::to_string(k));
  }
  Check(pm.saveFile(output.TemporaryPath().c_str(), EXS_LittleEndianExplicit), path, "saving");
  output.Commit();
}

} // namespace nsa
