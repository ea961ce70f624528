// Giving memory back to the system after a burst, for long-running
// processes (`slipway serve`). glibc's malloc keeps what threads free in
// their arenas (up to 8 per core) instead of returning it, so a server that
// once answered many large requests at the same time stayed at that size:
// ~40 MiB retained after 64 clients read a 3 MB job log (docs/benchmarks.md).
#ifndef SLIPWAY_UTIL_MEMORY_RELEASE_H_
#define SLIPWAY_UTIL_MEMORY_RELEASE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "util/thread_annotations.h"

namespace slipway {

// Caps the number of malloc arenas (glibc's M_ARENA_MAX). Fewer arenas
// spread freed memory over fewer heaps, so more of it can be reused and
// released. Call before the process starts its threads.
void LimitMallocArenas(int arenas);

// Bytes malloc holds free, in every arena (mallinfo2's fordblks).
size_t MallocFreeBytes();

// Returns the free pages of every arena to the system (malloc_trim(0)):
// whole free pages anywhere in a heap, not only at its top.
void ReleaseFreeMemory();

// While it lives, a thread checks every period whether malloc holds more
// than threshold bytes free, and that total moved by more than threshold
// since the last release; if so it releases them (ReleaseFreeMemory).
class MemoryReleaser {
 public:
  MemoryReleaser(std::chrono::milliseconds period, size_t threshold);
  ~MemoryReleaser();
  MemoryReleaser(const MemoryReleaser&) = delete;
  MemoryReleaser& operator=(const MemoryReleaser&) = delete;

 private:
  void Loop();

  const std::chrono::milliseconds period_;
  const size_t threshold_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_MEMORY_RELEASE_H_
