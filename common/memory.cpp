#include "common/memory.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tessera {

// Blocks from this size on are mapped on their own. glibc starts at 128 KiB, but then every
// upsert body (700 KB for 500 points x 128 floats) was a fresh mapping: page faults, zeroing and
// a TLB shootdown per request, about 10% of an upload's time (bench/RESULTS.md). Below 4 MiB
// blocks are reused from the heap; segment columns and graphs are larger and still mapped.
constexpr int kMmapThresholdBytes = 4 * 1024 * 1024;

void ConfigureAllocator(size_t arenas) {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, static_cast<int>(std::max<size_t>(arenas, 1)));
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);  // setting it turns the adaptation off
#else
  (void)arenas;
#endif
}

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace tessera
