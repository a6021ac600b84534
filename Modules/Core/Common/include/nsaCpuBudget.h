#ifndef nsaCpuBudget_h
#define nsaCpuBudget_h

#include <optional>
#include <string>

namespace nsa
{

/** \file nsaCpuBudget.h
 * \brief How many CPUs this process may actually use, for default thread counts (issue 17).
 *
 * std::thread::hardware_concurrency() and OpenMP's default count the machine's online CPUs;
 * a container or a batch job usually gets fewer: an affinity mask (taskset, Slurm's cpuset)
 * or a CPU quota (cgroup v2 `cpu.max`, cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`,
 * Docker's --cpus, Kubernetes' limits). Threads beyond the budget only take turns, and
 * OpenMP threads that spin at barriers then waste the turns of the ones doing the work. */

/** CPUs in this process's affinity mask (sched_getaffinity); hardware_concurrency() where
 * that is not available; at least 1. */
unsigned int
AffinityCpus();

/** The CPU quota in CPUs (quota / period) of the cgroup that `procSelfCgroup` (the text of
 * /proc/self/cgroup) names, below the cgroup file system mounted at `cgroupRoot` (normally
 * /sys/fs/cgroup): the smallest quota of that cgroup and its ancestors, for cgroup v2
 * (`0::<path>`, file cpu.max, "max" = none) and v1 (the `cpu` controller's hierarchy,
 * cpu.cfs_quota_us / cpu.cfs_period_us, -1 = none). A path that does not exist below the
 * mount (a container's own namespace) is read from the mount's root. nullopt: no quota. */
std::optional<double>
CgroupCpuQuota(const std::string & cgroupRoot, const std::string & procSelfCgroup);

/** min(AffinityCpus(), ceil(quota of this process's cgroup)), at least 1. */
unsigned int
AvailableCpus();

/** Default LibTorch (network) threads when the user gave none: all `availableCpus`, but one
 * left to the synthesis workers and the main thread from 2 CPUs on when there are workers
 * (a worker makes a sample in a few milliseconds, the network needs tens per sample, so a
 * whole CPU for them is enough and the network's threads do not wait at every barrier for a
 * preempted one). On the 2-core reference machine, quiet, NSATrain made 185 samples/s with 1
 * network thread against 118-172 with 2 beside its synthesis worker (Benchmarks.md). */
unsigned int
DefaultNetworkThreads(unsigned int availableCpus, unsigned int synthesisWorkers);

/** The spin count NSATrain gives libgomp (GOMP_SPINCOUNT): an idle OpenMP thread spins this
 * many times (a few microseconds), then sleeps. */
constexpr unsigned int BoundedOpenMPSpinCount = 3000;

/** OpenMP (libgomp, under Debian's LibTorch) reads its waiting settings when it is loaded,
 * before main(). Unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT, this sets
 * GOMP_SPINCOUNT=BoundedOpenMPSpinCount and replaces the process by the same program with the
 * same arguments (execv of /proc/self/exe), once; it returns (doing nothing) when either
 * variable is already set, after the restart, or when the exec fails. libgomp's own default
 * spins 300 000 times: beside a busy process, spinning threads took the CPU from the thread
 * with work and training fell from 73 to 12 samples/s. Sleeping at once (OMP_WAIT_POLICY=
 * PASSIVE, NSATrain's choice before) made 2 network threads slower than 1 even on a quiet
 * machine (100 against 135 samples/s), each of the step's many parallel regions waking its
 * threads through the kernel; a bounded spin bridges the short gaps between regions (2
 * threads 147-155 samples/s) and still yields the CPU soon (Documentation/Benchmarks.md).
 * Call it first in main() of programs that train; it costs one more program start (about
 * 0.8 s with LibTorch), and none for --xml, --help and --version. */
void
RestartWithBoundedOpenMPSpinning(int argc, char * argv[]);

/** How idle OpenMP threads wait in this process, from the environment libgomp read, for a
 * program's log: "GOMP_SPINCOUNT=3000 (spin briefly, then sleep)", the user's OMP_WAIT_POLICY and/or
 * GOMP_SPINCOUNT, or libgomp's default. */
std::string
DescribeOpenMPWaiting();

/** Whether RestartWithBoundedOpenMPSpinning restarts for these environment values (nullptr:
 * unset): only when OMP_WAIT_POLICY, GOMP_SPINCOUNT and the restart marker
 * NSA_OPENMP_RESTARTED are all unset. */
bool
WantsOpenMPWaitRestart(const char * ompWaitPolicy, const char * gompSpinCount, const char * restartMarker);

} // namespace nsa

#endif
