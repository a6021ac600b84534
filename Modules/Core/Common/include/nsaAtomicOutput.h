#ifndef nsaAtomicOutput_h
#define nsaAtomicOutput_h

#include <string>

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
 */
class AtomicOutput
{
public:
  /** Checks that the parent folder exists and is writable; throws nsa::OutputError naming
   * the folder otherwise. The folder is not created: a missing output folder is reported. */
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
  bool        m_Committed{ false };
};

/** Writes `content` to `path` atomically. */
void
WriteTextFileAtomically(const std::string & path, const std::string & content);

} // namespace nsa

#endif
