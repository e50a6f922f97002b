#include "common/memory.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tessera {

// Blocks from this size on are mapped on their own (glibc's default before it adapts).
constexpr int kMmapThresholdBytes = 128 * 1024;

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
