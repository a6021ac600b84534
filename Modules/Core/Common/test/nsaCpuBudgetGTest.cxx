// Default thread counts from the CPUs a process may use (issue 17): cgroup quotas read from
// fake cgroup trees, the affinity count, the network/worker split and the OpenMP restart rule.
#include "nsaCpuBudget.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;

namespace
{

/** A fresh folder for one fake cgroup tree. */
fs::path
FakeRoot(const std::string & name)
{
  const fs::path root = fs::path(NSA_TEST_OUTPUT_DIR) / "CpuBudget" / name;
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void
Write(const fs::path & file, const std::string & text)
{
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

} // namespace

TEST(CpuBudget, CgroupV2QuotaIsTheSmallestAlongThePath)
{
  const fs::path root = FakeRoot("v2");
  Write(root / "cpu.max", "max 100000\n");
  Write(root / "job" / "cpu.max", "350000 100000\n");        // 3.5 CPUs
  Write(root / "job" / "task" / "cpu.max", "max 100000\n"); // no limit of its own
  const auto quota = nsa::CgroupCpuQuota(root.string(), "0::/job/task\n");
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(*quota, 3.5);

  Write(root / "job" / "task" / "cpu.max", "150000 100000\n");
  EXPECT_DOUBLE_EQ(*nsa::CgroupCpuQuota(root.string(), "0::/job/task\n"), 1.5);
  // No limit anywhere.
  EXPECT_FALSE(nsa::CgroupCpuQuota(root.string(), "0::/\n").has_value());
  // A container's view: the path of the host does not exist below the mount, whose root
  // holds the container's own limit.
  Write(root / "cpu.max", "200000 100000\n");
  EXPECT_DOUBLE_EQ(*nsa::CgroupCpuQuota(root.string(), "0::/docker/0123abcd\n"), 2.0);
}

TEST(CpuBudget, CgroupV1QuotaFromTheCpuController)
{
  const fs::path root = FakeRoot("v1");
  Write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n");
  Write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n");
  Write(root / "cpu,cpuacct" / "slurm" / "cpu.cfs_quota_us", "50000\n");
  Write(root / "cpu,cpuacct" / "slurm" / "cpu.cfs_period_us", "100000\n");
  const std::string cgroup = "12:memory:/slurm\n4:cpu,cpuacct:/slurm\n1:name=systemd:/\n";
  const auto        quota = nsa::CgroupCpuQuota(root.string(), cgroup);
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(*quota, 0.5);
  // -1: unlimited; no cpu controller at all: unlimited.
  EXPECT_FALSE(nsa::CgroupCpuQuota(root.string(), "4:cpu,cpuacct:/\n").has_value());
  EXPECT_FALSE(nsa::CgroupCpuQuota(root.string(), "12:memory:/slurm\n").has_value());
  // Garbage in the files is no quota, not an error.
  Write(root / "cpu,cpuacct" / "slurm" / "cpu.cfs_quota_us", "lots\n");
  EXPECT_FALSE(nsa::CgroupCpuQuota(root.string(), cgroup).has_value());
  EXPECT_FALSE(nsa::CgroupCpuQuota((root / "missing").string(), cgroup).has_value());
}

TEST(CpuBudget, AvailableCpusWithinTheMachine)
{
  const unsigned int affinity = nsa::AffinityCpus();
  const unsigned int available = nsa::AvailableCpus();
  EXPECT_GE(affinity, 1u);
  EXPECT_GE(available, 1u);
  EXPECT_LE(available, affinity);
  if (std::thread::hardware_concurrency() > 0)
  {
    EXPECT_LE(affinity, std::thread::hardware_concurrency());
  }
}

TEST(CpuBudget, NetworkThreadsLeaveACpuToTheWorkersFromTwoCpus)
{
  EXPECT_EQ(nsa::DefaultNetworkThreads(1, 2), 1u);
  EXPECT_EQ(nsa::DefaultNetworkThreads(2, 2), 1u);
  EXPECT_EQ(nsa::DefaultNetworkThreads(2, 0), 2u);
  EXPECT_EQ(nsa::DefaultNetworkThreads(3, 2), 2u);
  EXPECT_EQ(nsa::DefaultNetworkThreads(16, 4), 15u);
  EXPECT_EQ(nsa::DefaultNetworkThreads(16, 0), 16u); // synthesis in the training thread
  EXPECT_EQ(nsa::DefaultNetworkThreads(0, 2), 1u);
}

TEST(CpuBudget, OpenMPWaitRestartOnlyWhenTheUserLeftWaitingUnset)
{
  EXPECT_TRUE(nsa::WantsOpenMPWaitRestart(nullptr, nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsOpenMPWaitRestart("ACTIVE", nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsOpenMPWaitRestart("", nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsOpenMPWaitRestart(nullptr, "100000", nullptr)); // the user's spin count
  EXPECT_FALSE(nsa::WantsOpenMPWaitRestart(nullptr, nullptr, "1"));      // restarted once already
}
