#pragma once

// The process's allocator policy (glibc malloc; no-ops elsewhere). Left alone, glibc keeps up to
// 8 arenas per core and raises its mmap threshold after every large free, so request bodies,
// JSON trees and a segment's build copies stay in the heap after they are freed: the server's
// resident size after loading 10k x 128 points was 3.7x the raw index (bench/RESULTS.md).

#include <cstddef>

namespace tessera {

// Call once at startup, before threads start: at most `arenas` arenas, and a fixed mmap
// threshold (4 MiB) so that large blocks go back to the OS when freed.
void ConfigureAllocator(size_t arenas);

// Returns free heap pages to the OS. Costs a walk of the free lists: call after large frees
// (a segment replaced by its indexed copy), not per request.
void ReleaseFreeMemory();

}  // namespace tessera
