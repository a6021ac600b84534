// glibc malloc settings for processes that run the network (issue 17): the rule that leaves
// the user's own tunables alone, and freed blocks reused without faulting their pages again.
#include "nsaAllocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include <sys/resource.h>

namespace
{

long
MinorFaults()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

/** Page faults taken while a fresh block of `bytes` is allocated, written and freed (through
 * volatile function pointers, so that the compiler keeps the calls). */
long
FaultsOfOneBlock(std::size_t bytes)
{
  void * (*volatile allocate)(std::size_t) = std::malloc;
  void (*volatile release)(void *) = std::free;
  const long before = MinorFaults();
  auto *     block = static_cast<unsigned char *>(allocate(bytes));
  EXPECT_NE(block, nullptr);
  std::memset(block, 1, bytes);
  volatile unsigned char sink = block[bytes - 1];
  (void)sink;
  release(block);
  return MinorFaults() - before;
}

} // namespace

TEST(Allocator, UserTunablesWin)
{
  EXPECT_TRUE(nsa::WantsAllocatorSettings(nullptr, nullptr, nullptr));
  EXPECT_TRUE(nsa::WantsAllocatorSettings("glibc.pthread.rseq=0", nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsAllocatorSettings("glibc.malloc.trim_threshold=0", nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsAllocatorSettings("glibc.pthread.rseq=0:glibc.malloc.arena_max=2", nullptr, nullptr));
  EXPECT_FALSE(nsa::WantsAllocatorSettings(nullptr, "131072", nullptr));
  EXPECT_FALSE(nsa::WantsAllocatorSettings(nullptr, nullptr, "131072"));
}

TEST(Allocator, FreedBlocksAreReusedWithoutFaultingAgain)
{
#if !defined(__GLIBC__)
  GTEST_SKIP() << "the settings are glibc's";
#endif
  if (!nsa::KeepFreedMemoryForReuse())
  {
    GTEST_SKIP() << "malloc tunables are set in this test's environment";
  }
  // 16 MiB: above glibc's initial mmap threshold, below the one set. The first block may
  // grow the heap; the second reuses its pages, where an mmap'ed block faults all 4096 again.
  const std::size_t bytes = std::size_t{ 16 } << 20;
  FaultsOfOneBlock(bytes);
  const long again = FaultsOfOneBlock(bytes);
  EXPECT_LT(again, 64) << "a freed 16 MiB block came back with " << again << " page faults";
}
