#ifndef nsaDicomWriters_h
#define nsaDicomWriters_h

#include "itkImage.h"
#include "nsaStudy.h"

#include <string>
#include <vector>

namespace nsa
{

/** \brief A coded concept (DICOM Code Sequence Macro): value, scheme, meaning. */
struct CodedConcept
{
  std::string value;
  std::string scheme;
  std::string meaning;
};

/** \brief What every derived DICOM object written by the toolkit carries. */
struct DicomDerivedOptions
{
  std::string seriesDescription;          ///< empty: "NSA anomaly segmentation" / "NSA anomaly score"
  int         seriesNumber = 900;         ///< Series Number of the new series
  int         instanceNumber = 1;
  std::string contentLabel = "ANOMALY";   ///< Content Label (upper case, at most 16 characters)
  std::string contentDescription = "Anomaly map of the NSA Toolkit";
  std::string contentCreatorName;         ///< person name (may be empty)
  std::string algorithmName = "NSA";      ///< Segment Algorithm Name / software name
  std::string algorithmVersion;           ///< empty: the toolkit's version
  std::string manufacturer = "NSA Toolkit";
  /** For a non-DICOM source: patient identity of the new study (may stay empty: DICOM
   * type 2 attributes). Ignored when the source is DICOM (its patient is copied). */
  std::string patientName;
  std::string patientId;
};

/** \brief Options of nsa::WriteDicomSegmentation. */
struct SegmentationOptions : DicomDerivedOptions
{
  /** BINARY: one bit per voxel; from a float map the voxels >= `threshold` are set.
   * FRACTIONAL (PROBABILITY): the map's values in [0, 1] stored as 0..255. */
  bool         fractional = false;
  double       threshold = 0.5;
  /** Leave out slices without any set voxel (smaller files for small findings; at least
   * one frame is always written). Default false: one frame per slice. */
  bool         skipEmptySlices = false;
  std::string  segmentLabel = "Anomaly";
  CodedConcept category{ "49755003", "SCT", "Morphologically Altered Structure" };
  CodedConcept type{ "52988006", "SCT", "Lesion" };
  /** Recommended display colour, sRGB (default red). */
  unsigned int displayColour[3] = { 255, 0, 0 };
};

/** \brief Options of nsa::WriteParametricMap. */
struct ParametricMapOptions : DicomDerivedOptions
{
  std::string  lutLabel = "NSA score";
  std::string  lutExplanation = "Anomaly score (0 normal, 1 anomalous)";
  CodedConcept units{ "1", "UCUM", "no units" };
  CodedConcept anatomicRegion{ "85756007", "SCT", "Tissue" };
};

/** Writes a DICOM Segmentation (dcmseg) of `map`, one frame per slice (or per non-empty
 * slice, SegmentationOptions::skipEmptySlices), with plane position
 * per frame and orientation and pixel measures shared. When `source.isDicom`, the object
 * joins the source's study and frame of reference, copies its patient module and
 * references the source instance of every slice (Derivation Image and Referenced Series);
 * the map must then have the source's slice count. Otherwise it is a standalone object with
 * its own study and frame of reference. Written atomically.
 * Throws nsa::ParameterError for a map that does not fit the source or the options,
 * nsa::InputError for a fractional map outside [0, 1] or with non-finite values,
 * nsa::OutputError naming the file if it cannot be written. */
void
WriteDicomSegmentation(const itk::Image<float, 3> * map, const StudyMetadata & source, const std::string & path,
                       const SegmentationOptions & options = SegmentationOptions());

/** Binary segmentation of a mask (voxels > 0 are set). */
void
WriteDicomSegmentation(const itk::Image<unsigned char, 3> * mask, const StudyMetadata & source,
                       const std::string & path, const SegmentationOptions & options = SegmentationOptions());

/** Writes a DICOM Parametric Map (dcmpmap) of `map` with float32 pixels, one frame per
 * slice, a Real World Value Mapping (identity, first/last value mapped = the map's range,
 * units and label from the options) and the same study and references as
 * WriteDicomSegmentation. Written atomically; errors as WriteDicomSegmentation. */
void
WriteParametricMap(const itk::Image<float, 3> * map, const StudyMetadata & source, const std::string & path,
                   const ParametricMapOptions & options = ParametricMapOptions());

/** \brief A DICOM Segmentation or Parametric Map read back. */
struct DerivedDicomObject
{
  /** Voxels in physical space: SEG binary 0/1, SEG fractional value/255, PM the float values. */
  itk::Image<float, 3>::Pointer image;
  std::string                   sopClassUid;
  std::string                   studyInstanceUid;
  std::string                   seriesInstanceUid;
  std::string                   frameOfReferenceUid;
  std::string                   patientId;
  std::string                   segmentationType;   ///< SEG: "BINARY" or "FRACTIONAL"
  std::string                   segmentLabel;       ///< SEG: the first segment's label
  /** Source instance referenced by each slice (Derivation Image), empty if none. */
  std::vector<std::string>      referencedSopInstanceUids;
  std::string                   referencedSeriesInstanceUid;
};

/** Limits of the regular grid a SEG or Parametric Map is read onto (its frames may skip
 * slices, and each skipped slice costs memory): the frames may lie at most
 * DerivedObjectMaximumExtent mm apart along the slice normal, the grid may hold at most
 * DerivedObjectMaximumSlices slices and DerivedObjectMaximumVoxels voxels. Beyond them, and
 * for a non-finite position, orientation or spacing, the readers throw nsa::InputError
 * naming the limit. */
extern const std::size_t DerivedObjectMaximumSlices; // 4096
extern const double      DerivedObjectMaximumExtent; // 3000 mm
extern const std::size_t DerivedObjectMaximumVoxels; // 2^29 (2 GiB of float voxels)

/** Reads a single-segment DICOM Segmentation written by WriteDicomSegmentation (or any
 * SEG whose frames are parallel slices of one segment). Throws nsa::InputError naming the
 * file otherwise. */
DerivedDicomObject
ReadDicomSegmentation(const std::string & path);

/** Reads a float32 or float64 DICOM Parametric Map of parallel slices. */
DerivedDicomObject
ReadParametricMap(const std::string & path);

} // namespace nsa

#endif
