#include "util/memory_release.h"

#include <malloc.h>

namespace slipway {

void LimitMallocArenas(int arenas) { mallopt(M_ARENA_MAX, arenas); }

size_t MallocFreeBytes() { return mallinfo2().fordblks; }

void ReleaseFreeMemory() { malloc_trim(0); }

MemoryReleaser::MemoryReleaser(std::chrono::milliseconds period, size_t threshold)
    : period_(period), threshold_(threshold), thread_([this] { Loop(); }) {}

MemoryReleaser::~MemoryReleaser() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MemoryReleaser::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  // Released pages stay in malloc's free lists (only their contents go), so
  // the free total does not drop after a release: what is looked for is a
  // change of it since the last one, i.e. memory freed (or reused) since.
  size_t free_after_release = 0;
  while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
    size_t free_now = MallocFreeBytes();
    size_t change = free_now > free_after_release ? free_now - free_after_release
                                                  : free_after_release - free_now;
    if (free_now > threshold_ && change > threshold_) {
      ReleaseFreeMemory();
      free_after_release = MallocFreeBytes();
    }
  }
}

}  // namespace slipway
