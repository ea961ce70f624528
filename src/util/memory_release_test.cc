#include "util/memory_release.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "util/test_wait.h"

namespace slipway {
namespace {

constexpr size_t kMiB = 1 << 20;

// Under AddressSanitizer malloc is ASan's, which glibc's malloc_trim and
// arenas do not govern.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kGlibcMalloc = false;
#else
constexpr bool kGlibcMalloc = true;
#endif
#else
constexpr bool kGlibcMalloc = true;
#endif

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// What a burst of requests leaves: 48 MiB of 64 KiB blocks written and
// freed on another thread (its own arena), all but the last, which keeps
// the heap's top in use so that free() cannot shrink it by itself.
void* Burst() {
  void* kept = nullptr;
  std::thread worker([&] {
    std::vector<void*> blocks;
    for (size_t i = 0; i < 48 * kMiB / (64 << 10); ++i) {
      blocks.push_back(std::malloc(64 << 10));
      std::memset(blocks.back(), 1, 64 << 10);
    }
    kept = blocks.back();
    blocks.pop_back();
    for (void* b : blocks) std::free(b);
  });
  worker.join();
  return kept;
}

TEST(MemoryReleaseTest, FreedMemoryStaysUntilReleased) {
  if (!kGlibcMalloc) GTEST_SKIP() << "not glibc's malloc";
  size_t before = ResidentBytes();
  void* kept = Burst();
  size_t after_burst = ResidentBytes();
  ASSERT_GT(after_burst, before + 32 * kMiB) << "the burst was not kept by malloc";
  EXPECT_GE(MallocFreeBytes(), 40 * kMiB);
  ReleaseFreeMemory();
  EXPECT_LT(ResidentBytes(), after_burst - 32 * kMiB);
  std::free(kept);
}

TEST(MemoryReleaseTest, ReleaserGivesABurstBack) {
  if (!kGlibcMalloc) GTEST_SKIP() << "not glibc's malloc";
  MemoryReleaser releaser(std::chrono::milliseconds(10), kMiB);
  void* kept = Burst();
  size_t after_burst = ResidentBytes();
  EXPECT_TRUE(WaitFor([&] { return ResidentBytes() < after_burst - 32 * kMiB; }))
      << ResidentBytes() << " bytes resident, " << after_burst << " after the burst";
  std::free(kept);
}

}  // namespace
}  // namespace slipway
