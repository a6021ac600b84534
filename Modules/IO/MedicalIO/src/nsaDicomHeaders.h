#ifndef nsaDicomHeaders_h
#define nsaDicomHeaders_h

// Private to the IO module's sources: DICOM header reading with DCMTK for series checks
// and study metadata. No DCMTK type appears here, so any source of the module may include it.

#include "nsaStudy.h"

#include <array>
#include <string>
#include <vector>

namespace nsa
{
namespace detail
{

/** The header attributes of one DICOM file that series checks and derived objects need. */
struct DicomSliceHeader
{
  std::string           file;
  std::string           sopClassUid;
  std::string           sopInstanceUid;
  std::string           seriesInstanceUid;
  bool                  hasPosition = false;
  std::array<double, 3> position{ { 0.0, 0.0, 0.0 } };
  bool                  hasOrientation = false;
  std::array<double, 6> orientation{ { 1.0, 0.0, 0.0, 0.0, 1.0, 0.0 } };
  unsigned int          rows = 0;
  unsigned int          columns = 0;
  unsigned int          frames = 1;
  double                spacingBetweenSlices = 0.0; ///< (0018,0088), 0 if absent
  double                pixelSpacing[2] = { 0.0, 0.0 }; ///< (0028,0030) row, column spacing; 0 if absent
  bool                  hasFunctionalGroups = false; ///< enhanced multi-frame (per-frame geometry)
  bool                  temporalFrames = false; ///< Frame Increment Pointer names a time (cine, dynamic)
  int                   instanceNumber = 0;
};

/** Sets DCMTK's log level to fatal errors only (once per process). */
void
QuietDcmtk();

/** Reads the header (up to the pixel data) of a DICOM file; throws nsa::InputError naming
 * the file if it is not a readable DICOM file. */
DicomSliceHeader
ReadDicomSliceHeader(const std::string & file);

/** The Series Instance UID of `file`, empty when it is not a readable DICOM file or has
 * none (a DICOMDIR, for instance). Reads the header only. */
std::string
ReadSeriesInstanceUid(const std::string & file);

/** Reads the patient, study, series and frame-of-reference attributes, the modality and
 * the rescale of `file` into `metadata` (DicomReference's per-instance lists excepted). */
void
ReadDicomStudyAttributes(const std::string & file, StudyMetadata & metadata);

/** Sorts the slices of one series along the slice normal and checks that they form a
 * regular volume: same orientation and matrix, single-frame files, distinct positions and
 * uniform spacing (a missing slice or non-uniform spacing is refused, naming the two files
 * at the gap). `folder` names the series in messages. Returns the slice spacing (0 for a
 * single slice). */
double
SortAndCheckSeries(std::vector<DicomSliceHeader> & slices, const std::string & folder);

} // namespace detail
} // namespace nsa

#endif
