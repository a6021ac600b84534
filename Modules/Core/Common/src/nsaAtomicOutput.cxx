#include "nsaAtomicOutput.h"

#include "nsaError.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace nsa
{

namespace
{
std::atomic<unsigned> g_TemporaryCounter{ 0 };
}

AtomicOutput::AtomicOutput(const std::string & finalPath)
  : m_FinalPath(finalPath)
{
  if (finalPath.empty())
  {
    throw OutputError("Output path is empty");
  }
  const fs::path final(finalPath);
  fs::path       folder = final.parent_path();
  if (folder.empty())
  {
    folder = ".";
  }
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
  {
    throw OutputError("Cannot write '" + finalPath + "': output folder '" + folder.string() + "' does not exist");
  }
  if (fs::is_directory(final, ec))
  {
    throw OutputError("Cannot write '" + finalPath + "': it is a folder");
  }
  if (::access(folder.c_str(), W_OK) != 0)
  {
    throw OutputError("Cannot write '" + finalPath + "': output folder '" + folder.string() + "' is not writable");
  }
  // Hidden temporary file in the same folder (same file system, so rename is atomic) that
  // keeps the final file name, and with it its extensions.
  const std::string unique = std::to_string(::getpid()) + "-" + std::to_string(g_TemporaryCounter++);
  m_TemporaryPath = (folder / (".nsa-tmp-" + unique + "-" + final.filename().string())).string();
}

AtomicOutput::~AtomicOutput()
{
  if (!m_Committed)
  {
    std::error_code ec;
    fs::remove(m_TemporaryPath, ec);
  }
}

void
AtomicOutput::Commit()
{
  std::error_code ec;
  if (!fs::exists(m_TemporaryPath, ec))
  {
    throw OutputError("Cannot write '" + m_FinalPath + "': the writer produced no file");
  }
  if (::rename(m_TemporaryPath.c_str(), m_FinalPath.c_str()) != 0)
  {
    throw OutputError("Cannot write '" + m_FinalPath + "': " + std::strerror(errno));
  }
  m_Committed = true;
}

void
WriteTextFileAtomically(const std::string & path, const std::string & content)
{
  AtomicOutput out(path);
  {
    std::ofstream stream(out.TemporaryPath(), std::ios::binary);
    stream << content;
    stream.flush();
    if (!stream)
    {
      throw OutputError("Cannot write '" + path + "': write failed (disk full?)");
    }
  }
  out.Commit();
}

} // namespace nsa
