#include "nsaCpuBudget.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

#if defined(__linux__)
#  include <sched.h>
#  include <unistd.h>
#endif

namespace nsa
{

namespace
{

namespace fs = std::filesystem;

/** The first line of a small file, empty when it cannot be read. */
std::string
FirstLine(const fs::path & path)
{
  std::ifstream stream(path);
  std::string   line;
  if (stream)
  {
    std::getline(stream, line);
  }
  return line;
}

/** The folders from `mount`/`path` up to `mount` itself; when `mount`/`path` does not exist
 * (a container sees its cgroup as "/" or as a path of the host), only `mount`. */
std::vector<fs::path>
CgroupLevels(const fs::path & mount, const std::string & path)
{
  std::vector<fs::path> levels;
  fs::path              relative = fs::path(path).relative_path();
  std::error_code       ec;
  if (!relative.empty() && fs::is_directory(mount / relative, ec))
  {
    for (fs::path level = relative; !level.empty() && level != level.root_path(); level = level.parent_path())
    {
      levels.push_back(mount / level);
    }
  }
  levels.push_back(mount);
  return levels;
}

/** quota / period, when both parse, the quota is positive and the period too. */
std::optional<double>
Ratio(const std::string & quota, const std::string & period)
{
  char *       end = nullptr;
  const double q = std::strtod(quota.c_str(), &end);
  if (end == quota.c_str() || !(q > 0.0))
  {
    return std::nullopt;
  }
  const double p = std::strtod(period.c_str(), &end);
  if (end == period.c_str() || !(p > 0.0))
  {
    return std::nullopt;
  }
  return q / p;
}

void
KeepSmaller(std::optional<double> & smallest, const std::optional<double> & value)
{
  if (value && (!smallest || *value < *smallest))
  {
    smallest = value;
  }
}

} // namespace

unsigned int
AffinityCpus()
{
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
  {
    const int count = CPU_COUNT(&set);
    if (count > 0)
    {
      return static_cast<unsigned int>(count);
    }
  }
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<double>
CgroupCpuQuota(const std::string & cgroupRoot, const std::string & procSelfCgroup)
{
  const fs::path        root(cgroupRoot);
  std::optional<double> smallest;
  std::istringstream    lines(procSelfCgroup);
  std::string           line;
  while (std::getline(lines, line))
  {
    // hierarchy-ID:controller-list:cgroup-path
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos)
    {
      continue;
    }
    const std::string hierarchy = line.substr(0, first);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (hierarchy == "0" && controllers.empty())
    {
      // cgroup v2: "quota period" or "max period" in cpu.max at every level.
      for (const auto & level : CgroupLevels(root, path))
      {
        std::istringstream fields(FirstLine(level / "cpu.max"));
        std::string        quota, period;
        if (fields >> quota >> period && quota != "max")
        {
          KeepSmaller(smallest, Ratio(quota, period));
        }
      }
      continue;
    }
    // cgroup v1: the hierarchy whose controller list holds "cpu".
    std::istringstream names(controllers);
    std::string        name;
    bool               cpu = false;
    while (std::getline(names, name, ','))
    {
      cpu = cpu || name == "cpu";
    }
    if (!cpu)
    {
      continue;
    }
    for (const fs::path & mount : { root / "cpu", root / controllers, root / "cpu,cpuacct", root / "cpuacct,cpu" })
    {
      std::error_code ec;
      if (!fs::is_directory(mount, ec))
      {
        continue;
      }
      for (const auto & level : CgroupLevels(mount, path))
      {
        KeepSmaller(smallest, Ratio(FirstLine(level / "cpu.cfs_quota_us"), FirstLine(level / "cpu.cfs_period_us")));
      }
      break;
    }
  }
  return smallest;
}

unsigned int
AvailableCpus()
{
  unsigned int cpus = AffinityCpus();
  std::ifstream stream("/proc/self/cgroup");
  if (stream)
  {
    std::stringstream text;
    text << stream.rdbuf();
    if (const auto quota = CgroupCpuQuota("/sys/fs/cgroup", text.str()))
    {
      const double rounded = std::ceil(*quota - 1e-9);
      if (rounded < static_cast<double>(cpus))
      {
        cpus = static_cast<unsigned int>(std::max(1.0, rounded));
      }
    }
  }
  return std::max(1u, cpus);
}

unsigned int
DefaultNetworkThreads(unsigned int availableCpus, unsigned int synthesisWorkers)
{
  const unsigned int cpus = std::max(1u, availableCpus);
  return cpus >= 2 && synthesisWorkers > 0 ? cpus - 1 : cpus;
}

bool
WantsOpenMPWaitRestart(const char * ompWaitPolicy, const char * gompSpinCount, const char * restartMarker)
{
  return ompWaitPolicy == nullptr && gompSpinCount == nullptr && restartMarker == nullptr;
}

std::string
DescribeOpenMPWaiting()
{
  const char * policy = std::getenv("OMP_WAIT_POLICY");
  const char * spinCount = std::getenv("GOMP_SPINCOUNT");
  std::string  text;
  if (policy)
  {
    text = std::string("OMP_WAIT_POLICY=") + policy;
  }
  if (spinCount)
  {
    text += (text.empty() ? "" : ", ") + std::string("GOMP_SPINCOUNT=") + spinCount;
  }
  if (text.empty())
  {
    return "libgomp's default (spin 300000 times, then sleep)";
  }
  const bool ours = !policy && spinCount && std::getenv("NSA_OPENMP_RESTARTED") &&
                    std::string(spinCount) == std::to_string(BoundedOpenMPSpinCount);
  return text + (ours ? " (spin briefly, then sleep)" : " (set by the user)");
}

void
RestartWithBoundedOpenMPSpinning(int argc, char * argv[])
{
#if defined(__linux__)
  if (argc < 1 || !WantsOpenMPWaitRestart(std::getenv("OMP_WAIT_POLICY"), std::getenv("GOMP_SPINCOUNT"),
                                          std::getenv("NSA_OPENMP_RESTARTED")))
  {
    return;
  }
  for (int i = 1; i < argc; ++i)
  {
    const std::string argument = argv[i];
    if (argument == "--xml" || argument == "--help" || argument == "-h" || argument == "--version")
    {
      return; // answered at once, nothing runs in parallel
    }
  }
  const std::string spinCount = std::to_string(BoundedOpenMPSpinCount);
  if (setenv("GOMP_SPINCOUNT", spinCount.c_str(), 0) != 0 || setenv("NSA_OPENMP_RESTARTED", "1", 1) != 0)
  {
    return;
  }
  execv("/proc/self/exe", argv);
  // The exec failed: carry on in this process (libgomp's default waiting).
  unsetenv("GOMP_SPINCOUNT");
#else
  (void)argc;
  (void)argv;
#endif
}

} // namespace nsa
