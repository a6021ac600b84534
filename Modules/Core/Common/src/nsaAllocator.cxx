#include "nsaAllocator.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace nsa
{

bool
WantsAllocatorSettings(const char * glibcTunables, const char * mallocMmapThreshold, const char * mallocTrimThreshold)
{
  if (mallocMmapThreshold != nullptr || mallocTrimThreshold != nullptr)
  {
    return false;
  }
  return glibcTunables == nullptr || std::strstr(glibcTunables, "glibc.malloc.") == nullptr;
}

bool
KeepFreedMemoryForReuse()
{
#if defined(__GLIBC__)
  if (!WantsAllocatorSettings(
        std::getenv("GLIBC_TUNABLES"), std::getenv("MALLOC_MMAP_THRESHOLD_"), std::getenv("MALLOC_TRIM_THRESHOLD_")))
  {
    return false;
  }
  // Setting either threshold also stops glibc's on-the-fly adjustment of the mmap threshold,
  // so both are set (the trim threshold alone left every tensor above 128 KiB to mmap).
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(AllocatorMmapThreshold)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(AllocatorTrimThreshold)) == 1;
#else
  return false;
#endif
}

} // namespace nsa
