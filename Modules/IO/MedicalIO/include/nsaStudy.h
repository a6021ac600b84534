#ifndef nsaStudy_h
#define nsaStudy_h

#include "itkImage.h"

#include <array>
#include <string>
#include <vector>

namespace nsa
{

/** \brief What a derived DICOM object (Segmentation, Parametric Map) needs to reference
 * its source series and to carry the same patient and study.
 *
 * Filled by nsa::ReadStudy from the DICOM headers; empty for non-DICOM inputs. Strings are
 * the DICOM values as stored (UIDs without padding).
 */
struct DicomReference
{
  // Patient module
  std::string patientName;
  std::string patientId;
  std::string patientBirthDate;
  std::string patientSex;
  // General Study module
  std::string studyInstanceUid;
  std::string studyDate;
  std::string studyTime;
  std::string studyId;
  std::string accessionNumber;
  std::string referringPhysicianName;
  std::string studyDescription;
  // Source series and frame of reference
  std::string seriesInstanceUid;
  std::string seriesNumber;
  std::string seriesDescription;
  std::string frameOfReferenceUid;
  std::string bodyPartExamined;
  /** One entry per source instance, in slice order (index k = slice k of the image; a
   * multi-frame file has one instance holding every slice). */
  std::vector<std::string> sopClassUids;
  std::vector<std::string> sopInstanceUids;
  /** Number of frames of each instance (1 for classic single-frame series). */
  std::vector<unsigned int> numberOfFrames;
  /** Image Position (Patient) of each single-frame instance, in slice order (empty when
   * the instances carry none); derived objects check that their slices lie there. */
  std::vector<std::array<double, 3>> imagePositions;
};

/** \brief Everything about a study that is not voxels. */
struct StudyMetadata
{
  std::string  sourcePath;        ///< file or folder as given
  std::string  format;            ///< "dicom" or the ITK ImageIO name ("NiftiImageIO", "PNGImageIO", ...)
  std::string  modality;          ///< DICOM Modality ("CT", "MR", ...); for other files the option's value or ""
  unsigned int originalDimension = 3; ///< axes in the file (2 for a PNG; the image is then one slice)
  std::string  originalPixelType; ///< component type stored in the file ("short", "unsigned_char", ...)
  /** DICOM Rescale Slope / Intercept of the first slice, applied to the voxels (CT values
   * are then Hounsfield units); 1 and 0 when the file has none. */
  double       rescaleSlope = 1.0;
  double       rescaleIntercept = 0.0;
  std::string  rescaleType;       ///< DICOM Rescale Type ("HU", "US", ...) if given
  bool         isDicom = false;
  DicomReference dicom;           ///< valid when isDicom
};

/** \brief A study read for the toolkit: a float volume in physical space plus metadata.
 *
 * Every study is a 3D float image: 2D inputs become one-slice volumes (their
 * StudyMetadata::originalDimension says so), intensities are in the image's own units
 * (DICOM rescale applied; CT in HU). */
struct Study
{
  itk::Image<float, 3>::Pointer image;
  StudyMetadata                 metadata;
};

/** \brief Options of nsa::ReadStudy. */
struct ReadStudyOptions
{
  /** DICOM folder with several series: the one to read (default: the folder must hold one). */
  std::string seriesInstanceUid;
  /** Modality of a non-DICOM file ("CT", "MR", ...); ignored when the file states one. */
  std::string modality;
  /** Refuse a 2D image or a one-slice volume (default false: read as a one-slice volume). */
  bool requireVolume = false;
};

/** Reads a study from a file (NIfTI, NRRD, MetaImage, PNG, a single DICOM file) or a DICOM
 * folder, with origin, spacing and direction, DICOM rescale applied, and the metadata a
 * derived DICOM object needs. A DICOM folder must hold one regular volume: missing slices,
 * non-uniform spacing, mixed orientations or matrices and multi-frame files inside a
 * multi-file series are refused. Non-finite voxels are refused (a study with NaN cannot be
 * normalised). Multi-component files are refused except RGB(A), read as luminance.
 * Throws nsa::InputError naming the file and the problem. */
Study
ReadStudy(const std::string & path, const ReadStudyOptions & options = ReadStudyOptions());

} // namespace nsa

#endif
