#include "nsaAtomicOutput.h"

#include "nsaError.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace nsa
{

namespace
{
std::atomic<unsigned> g_TemporaryCounter{ 0 };

const std::string TemporaryPrefix = ".nsa-tmp-";

/** This host's name as it appears in temporary names: characters other than letters,
 * digits, '.', '-' and '_' become '_' (so never '@', which ends the host in the name). */
const std::string &
HostName()
{
  static const std::string name = [] {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0')
    {
      return std::string("localhost");
    }
    std::string host(buffer);
    for (char & c : host)
    {
      const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_';
      c = keep ? c : '_';
    }
    return host;
  }();
  return name;
}

/** Temporary files being written, for the signal handler: fixed storage (no allocation in
 * the handler), a state per slot (0 free, 1 being filled, 2 registered). A path that does
 * not fit, or a full table, is simply not registered: the stale-file clean-up of the next
 * run still removes the file. */
constexpr int    SignalSlots = 64;
constexpr size_t SignalPathLength = 4096;
struct SignalSlot
{
  std::atomic<int> state{ 0 };
  char             path[SignalPathLength];
};
SignalSlot g_SignalSlots[SignalSlots];

int
RegisterForSignals(const std::string & path)
{
  if (path.size() + 1 > SignalPathLength)
  {
    return -1;
  }
  for (int i = 0; i < SignalSlots; ++i)
  {
    int expected = 0;
    if (g_SignalSlots[i].state.compare_exchange_strong(expected, 1))
    {
      std::memcpy(g_SignalSlots[i].path, path.c_str(), path.size() + 1);
      g_SignalSlots[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void
UnregisterForSignals(int slot)
{
  if (slot >= 0)
  {
    g_SignalSlots[slot].state.store(0);
  }
}

extern "C" void
RemoveTemporariesAndReraise(int signal)
{
  for (auto & slot : g_SignalSlots)
  {
    if (slot.state.load() == 2)
    {
      ::unlink(slot.path);
    }
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

bool
ProcessIsGone(long pid)
{
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

/** For a name `.nsa-tmp-<host>@<pid>-<n>-<final name>` of this host: the pid; -1 otherwise. */
long
TemporaryOwner(const std::string & name)
{
  const std::string head = TemporaryPrefix + HostName() + "@";
  if (name.compare(0, head.size(), head) != 0)
  {
    return -1;
  }
  size_t position = head.size();
  auto   digits = [&](long & value) {
    const size_t start = position;
    value = 0;
    while (position < name.size() && name[position] >= '0' && name[position] <= '9' && position - start < 12)
    {
      value = value * 10 + (name[position++] - '0');
    }
    return position > start && position < name.size() && name[position++] == '-';
  };
  long pid = 0;
  long counter = 0;
  if (!digits(pid) || !digits(counter) || position >= name.size())
  {
    return -1;
  }
  return pid;
}

} // namespace

std::string
TemporarySiblingPath(const std::string & finalPath)
{
  const fs::path final(finalPath);
  fs::path       folder = final.parent_path();
  if (folder.empty())
  {
    folder = ".";
  }
  // Hidden, in the same folder (same file system, so rename is atomic), keeping the final
  // file name and with it its extensions.
  const std::string unique = HostName() + "@" + std::to_string(::getpid()) + "-" + std::to_string(g_TemporaryCounter++);
  return (folder / (TemporaryPrefix + unique + "-" + final.filename().string())).string();
}

int
RemoveStaleTemporaries(const std::string & finalPath, bool folders)
{
  const fs::path final(finalPath);
  fs::path       folder = final.parent_path();
  if (folder.empty())
  {
    folder = ".";
  }
  int removed = 0;
  std::error_code   ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
  {
    const std::string name = it->path().filename().string();
    if (name.compare(0, TemporaryPrefix.size(), TemporaryPrefix) != 0)
    {
      continue;
    }
    const long pid = TemporaryOwner(name);
    if (pid < 0 || pid == static_cast<long>(::getpid()) || !ProcessIsGone(pid))
    {
      continue;
    }
    struct stat status;
    if (::lstat(it->path().c_str(), &status) != 0)
    {
      continue;
    }
    std::error_code ignored;
    if (S_ISREG(status.st_mode))
    {
      removed += fs::remove(it->path(), ignored) ? 1 : 0;
    }
    else if (folders && S_ISDIR(status.st_mode))
    {
      bool onlyFiles = true;
      for (fs::directory_iterator inner(it->path(), ignored), innerEnd; !ignored && inner != innerEnd;
           inner.increment(ignored))
      {
        onlyFiles = onlyFiles && inner->is_regular_file(ignored) && !inner->is_symlink(ignored);
      }
      if (onlyFiles && !ignored)
      {
        removed += fs::remove_all(it->path(), ignored) > 0 ? 1 : 0;
      }
    }
  }
  return removed;
}

void
InstallTemporaryFileSignalCleanup()
{
  for (const int signal : { SIGINT, SIGTERM, SIGHUP })
  {
    struct sigaction action;
    std::memset(&action, 0, sizeof(action));
    if (::sigaction(signal, nullptr, &action) == 0 && action.sa_handler == SIG_IGN)
    {
      continue; // ignored on purpose (nohup): keep it so
    }
    action.sa_handler = RemoveTemporariesAndReraise;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    ::sigaction(signal, &action, nullptr);
  }
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
  // Once per folder and process: a program writing thousands of outputs into one folder
  // does not list it thousands of times.
  {
    static std::mutex            mutex;
    static std::set<std::string> cleaned;
    std::lock_guard<std::mutex>  lock(mutex);
    if (cleaned.insert(fs::absolute(folder, ec).lexically_normal().string()).second)
    {
      RemoveStaleTemporaries(finalPath);
    }
  }
  m_TemporaryPath = TemporarySiblingPath(finalPath);
  m_SignalSlot = RegisterForSignals(m_TemporaryPath);
}

AtomicOutput::~AtomicOutput()
{
  if (!m_Committed)
  {
    std::error_code ec;
    fs::remove(m_TemporaryPath, ec);
  }
  UnregisterForSignals(m_SignalSlot);
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
  UnregisterForSignals(m_SignalSlot);
  m_SignalSlot = -1;
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

bool
IsSamePath(const std::string & a, const std::string & b)
{
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec))
  {
    const bool same = fs::equivalent(a, b, ec);
    return !ec && same;
  }
  const fs::path ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
  return !ec && ca == cb;
}

void
CheckOutputPaths(const std::vector<NamedPath> & inputs, const std::vector<NamedPath> & outputs)
{
  std::error_code ec;
  for (size_t i = 0; i < outputs.size(); ++i)
  {
    const NamedPath & output = outputs[i];
    if (output.path.empty())
    {
      continue;
    }
    const std::string where = output.name + " '" + output.path + "'";
    const fs::path    final(output.path);
    fs::path          folder = final.parent_path();
    if (folder.empty())
    {
      folder = ".";
    }
    for (const NamedPath & input : inputs)
    {
      if (!input.path.empty() && IsSamePath(output.path, input.path))
      {
        throw OutputError(where + " is the same file as the input " + input.name + " '" + input.path +
                          "'; refusing to overwrite an input (choose another output name)");
      }
    }
    for (size_t j = 0; j < i; ++j)
    {
      if (!outputs[j].path.empty() && IsSamePath(output.path, outputs[j].path))
      {
        throw OutputError(where + " is the same file as " + outputs[j].name + " '" + outputs[j].path +
                          "'; each output needs its own name");
      }
    }
    if (!fs::is_directory(folder, ec))
    {
      throw OutputError("Cannot write " + where + ": output folder '" + folder.string() + "' does not exist");
    }
    if (fs::is_directory(final, ec))
    {
      throw OutputError("Cannot write " + where + ": it is a folder");
    }
    if (::access(folder.c_str(), W_OK) != 0)
    {
      throw OutputError("Cannot write " + where + ": output folder '" + folder.string() + "' is not writable");
    }
  }
}

OutputFolder::OutputFolder(const std::string & path)
{
  if (path.empty())
  {
    throw OutputError("Output folder path is empty");
  }
  std::error_code ec;
  fs::path        folder = fs::absolute(path, ec).lexically_normal();
  if (!folder.has_filename() && folder.has_parent_path())
  {
    folder = folder.parent_path(); // a trailing '/'
  }
  // The folders that do not exist yet, innermost first.
  for (fs::path p = folder; !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path())
  {
    m_Created.push_back(p.string());
    if (p == p.root_path())
    {
      break;
    }
  }
  if (!fs::create_directories(folder, ec) && ec)
  {
    m_Created.clear();
    throw OutputError("Cannot create the output folder '" + path + "': " + ec.message());
  }
  if (!fs::is_directory(folder, ec))
  {
    m_Created.clear();
    throw OutputError("Cannot write into '" + path + "': it exists and is not a folder");
  }
  if (::access(folder.c_str(), W_OK) != 0)
  {
    throw OutputError("Cannot write into the output folder '" + path + "': it is not writable");
  }
}

OutputFolder::~OutputFolder()
{
  if (m_Keep)
  {
    return;
  }
  for (const std::string & folder : m_Created)
  {
    std::error_code ec;
    if (!fs::is_empty(folder, ec) || ec || !fs::remove(folder, ec))
    {
      break; // something was written into it (or it is gone): leave it and its parents
    }
  }
}

} // namespace nsa
