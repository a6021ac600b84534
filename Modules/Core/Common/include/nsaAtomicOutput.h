#ifndef nsaAtomicOutput_h
#define nsaAtomicOutput_h

#include <string>
#include <vector>

namespace nsa
{

/** \class AtomicOutput
 * \brief Writes an output file atomically: to a temporary file in the same folder, then a
 * rename over the final name on Commit().
 *
 * A failure, an exception or a kill before Commit() never leaves a truncated file under the
 * final name; the destructor removes an uncommitted temporary file. The temporary name
 * keeps the final name's extensions (".nii.gz", ".dcm", ...), so writers that choose the
 * format from the extension (itk::ImageFileWriter) can write to TemporaryPath() directly:
 *
 * \code
 *   nsa::AtomicOutput out("result/map.nii.gz");  // throws OutputError if the folder is unwritable
 *   writer->SetFileName(out.TemporaryPath());
 *   writer->Update();
 *   out.Commit();
 * \endcode
 *
 * Temporary files are named `.nsa-tmp-<host>@<pid>-<n>-<final name>`. A process killed
 * while writing cannot remove its own: the first AtomicOutput of a process in a folder
 * removes those of this host whose process is gone (a file of another host, or of a running
 * process, is left alone). Programs (nsa::RunProgram) also remove the temporary files being written
 * when they receive SIGINT, SIGTERM or SIGHUP (see InstallTemporaryFileSignalCleanup).
 */
class AtomicOutput
{
public:
  /** Checks that the parent folder exists and is writable; throws nsa::OutputError naming
   * the folder otherwise. The folder is not created: a missing output folder is reported.
   * Removes stale temporary files of the folder, once per process (see the class comment). */
  explicit AtomicOutput(const std::string & finalPath);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput &) = delete;
  AtomicOutput & operator=(const AtomicOutput &) = delete;

  const std::string &
  TemporaryPath() const
  {
    return m_TemporaryPath;
  }
  const std::string &
  FinalPath() const
  {
    return m_FinalPath;
  }

  /** Renames the temporary file to the final path; throws nsa::OutputError if the
   * temporary file is missing or the rename fails. */
  void
  Commit();

private:
  std::string m_FinalPath;
  std::string m_TemporaryPath;
  int         m_SignalSlot{ -1 };
  bool        m_Committed{ false };
};

/** Writes `content` to `path` atomically. */
void
WriteTextFileAtomically(const std::string & path, const std::string & content);

/** A temporary name for `finalPath` in its folder, as AtomicOutput makes them
 * (`.nsa-tmp-<host>@<pid>-<n>-<name>`), for writers that need a temporary folder (a DICOM
 * series). */
std::string
TemporarySiblingPath(const std::string & finalPath);

/** Removes, in the folder of `finalPath`, the temporary files (and with `folders`, the
 * temporary folders, when they hold only regular files) that AtomicOutput or
 * TemporarySiblingPath named on this host for a process that no longer runs. Returns how
 * many were removed. Symbolic links are never followed or removed. */
int
RemoveStaleTemporaries(const std::string & finalPath, bool folders = false);

/** Makes SIGINT, SIGTERM and SIGHUP remove the temporary files of every AtomicOutput not yet
 * committed, then end the process as the signal would have. Called by nsa::RunProgram; a
 * library user (the Python package) is not affected. The handler only calls unlink(),
 * signal() and raise() (async-signal-safe). */
void
InstallTemporaryFileSignalCleanup();

/** \brief One path a program reads or writes, with the flag or argument that names it. */
struct NamedPath
{
  std::string name; ///< "--mask", "<outputVolume>", ... (used in messages)
  std::string path;
};

/** Checks a program's outputs before any work is done, so that a refusal leaves nothing
 * behind and destroys nothing:
 * - each output's folder exists and is writable, and the output is not itself a folder;
 * - no output is the same file as an input — compared as files (device and inode, so that
 *   symbolic links, hard links and relative paths are seen through) when both exist, and by
 *   canonical path otherwise; an input folder (a DICOM series) is matched when an output
 *   names that folder itself;
 * - no two outputs name the same file.
 * Empty paths are skipped. Throws nsa::OutputError naming both paths and their flags. */
void
CheckOutputPaths(const std::vector<NamedPath> & inputs, const std::vector<NamedPath> & outputs);

/** True when `a` and `b` name the same file or folder (see CheckOutputPaths). */
bool
IsSamePath(const std::string & a, const std::string & b);

/** \class OutputFolder
 * \brief Creates an output folder (with its missing parents) and removes what it created
 * again when the program fails before writing into it (the destructor removes the created
 * folders that are still empty unless Keep() was called). */
class OutputFolder
{
public:
  /** Creates `path` if needed; throws nsa::OutputError naming it when that fails or when it
   * exists and is not a folder. */
  explicit OutputFolder(const std::string & path);
  ~OutputFolder();
  OutputFolder(const OutputFolder &) = delete;
  OutputFolder & operator=(const OutputFolder &) = delete;

  void
  Keep()
  {
    m_Keep = true;
  }

private:
  std::vector<std::string> m_Created; // innermost first
  bool                     m_Keep{ false };
};

} // namespace nsa

#endif
