#ifndef nsaAllocator_h
#define nsaAllocator_h

#include <cstddef>

namespace nsa
{

/** \file nsaAllocator.h
 * \brief glibc malloc settings for processes that run the network (issue 17).
 *
 * LibTorch's CPU allocator takes every tensor from malloc and gives it back when the tensor
 * dies, tens of times per training step. glibc serves blocks above its mmap threshold (128 KiB
 * at first, raised on the fly up to 32 MiB) with mmap and returns them with munmap, and gives
 * the top of its heap back to the system beyond its trim threshold; each step then faults the
 * same pages in again. On the 2-core reference machine one Adam step of the width-1 network at
 * 128² spent most of its time in page faults: 727 ms with glibc's defaults against 333 ms with
 * the settings below, the same bits computed (Documentation/Benchmarks.md); page faults of
 * one thread also stall the others, which share the address space's lock. */

/** The mmap threshold set by KeepFreedMemoryForReuse: glibc's largest allowed value (32 MiB
 * on 64-bit), so that all but the largest tensors come from the heap. */
constexpr std::size_t AllocatorMmapThreshold = std::size_t{ 32 } << 20;

/** The trim threshold set by KeepFreedMemoryForReuse: up to 1 GiB of freed memory at the
 * top of the heap stays mapped for the next step instead of going back to the system. */
constexpr std::size_t AllocatorTrimThreshold = std::size_t{ 1 } << 30;

/** Whether KeepFreedMemoryForReuse changes anything for these environment values (nullptr:
 * unset): not when the user set glibc's malloc tunables (a `glibc.malloc.` entry in
 * GLIBC_TUNABLES, MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_), which win. */
bool
WantsAllocatorSettings(const char * glibcTunables, const char * mallocMmapThreshold, const char * mallocTrimThreshold);

/** Sets glibc's mmap and trim thresholds to AllocatorMmapThreshold and
 * AllocatorTrimThreshold (mallopt), unless the environment already sets malloc tunables
 * (WantsAllocatorSettings) or the C library is not glibc. Returns whether it set them.
 * Results do not change, only where freed memory waits for reuse: the process keeps up to
 * its peak working set mapped. Called first in main() by NSATrain, NSAPredict, NSAEvaluate
 * and the training benchmark; a program or script that embeds the toolkit's training may
 * call it too. */
bool
KeepFreedMemoryForReuse();

} // namespace nsa

#endif
