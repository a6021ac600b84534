#ifndef nsaManifest_h
#define nsaManifest_h

#include <optional>
#include <string>
#include <vector>

namespace nsa
{

/** \brief One case of a cohort manifest. */
struct ManifestEntry
{
  std::string        caseId;
  std::string        image; ///< resolved path (file or DICOM folder)
  std::string        mask;  ///< resolved path of the ground-truth mask, empty if none
  std::optional<int> label; ///< case label (0 normal, 1 anomalous), unset if none
  unsigned int       line = 0; ///< line of the manifest this entry came from (for messages)
};

/** \brief Options of nsa::ReadManifest. */
struct ManifestOptions
{
  /** Check that every image and mask exists (default true). */
  bool checkFilesExist = true;
};

/** Reads a cohort manifest: a CSV file (RFC 4180: commas, double-quoted fields with ""
 * escapes, LF or CRLF line ends, optional UTF-8 byte-order mark) whose first row names the
 * columns. Columns `case_id` and `image` are required, `mask` and `label` optional, other
 * columns are ignored; blank lines are skipped. Comments are whole lines starting with `#`
 * in the first column *before the header row*; after the header every non-blank line is a
 * case, so a case id such as `#12` is read like any other. Relative paths are resolved
 * against the manifest's folder. A label is an integer (0 or 1); an empty mask or label
 * cell means none.
 *
 * Throws nsa::InputError naming the manifest, the line and the column for text that is not
 * valid UTF-8, a missing column, a row with the wrong number of fields, an empty or
 * duplicate case_id, a case_id with a control character, an empty image, a label that is not
 * 0 or 1, an unterminated quote, a missing file, or a header without any case row. */
std::vector<ManifestEntry>
ReadManifest(const std::string & path, const ManifestOptions & options = ManifestOptions());

/** Parses manifest text as ReadManifest does; `name` names the text in messages and
 * `baseFolder` resolves relative paths. */
std::vector<ManifestEntry>
ParseManifest(const std::string & text, const std::string & name, const std::string & baseFolder,
              const ManifestOptions & options = ManifestOptions());

} // namespace nsa

#endif
