#ifndef nsaStudyList_h
#define nsaStudyList_h

#include <string>
#include <vector>

namespace nsa
{

/** \file nsaStudyList.h
 * \brief Which studies a folder, a list file or a cohort manifest names (NSATrain's
 * --images, NSAPredict's folder mode, the Python package). */

/** \brief A study to read: a display name (file name without image extension, or folder
 * name for a DICOM series) and its path. */
struct StudyEntry
{
  std::string name;
  std::string path;
};

/** Studies of a folder (image files by extension, sub-folders as DICOM series, sorted by
 * name, hidden entries skipped), a list file (.txt or .lst: one path per line, relative to
 * the list's folder, blank lines and # comments skipped) or a cohort manifest (.csv, its
 * image column). Throws InputError naming the source when it is missing or lists no study. */
std::vector<StudyEntry>
ListStudies(const std::string & source);

/** The file name without folder and image extension (".nii.gz", ".nrrd", ...). */
std::string
StudyName(const std::string & path);

} // namespace nsa

#endif
