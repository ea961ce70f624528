// A ByteSource that reads another on a thread of its own, ahead of its
// reader: unpacking a layer then inflates it on one core while it creates
// the files on another (docs/benchmarks.md, "Image pull"), instead of doing
// both in turn on one.
#ifndef SLIPWAY_IMAGE_READ_AHEAD_SOURCE_H_
#define SLIPWAY_IMAGE_READ_AHEAD_SOURCE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "image/byte_source.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

class ReadAheadSource : public ByteSource {
 public:
  // Reads in on a thread started here, into chunks of chunk_bytes, at most
  // chunks of them ahead of Read. in's error (and its end) reaches Read
  // after the bytes read before it.
  explicit ReadAheadSource(std::unique_ptr<ByteSource> in, size_t chunk_bytes = size_t{1} << 20,
                           size_t chunks = 4);
  // Stops the thread (after its Read under way returns) and waits for it.
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  // Not thread-safe: one reader.
  StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  struct Chunk {
    std::vector<char> data;
    size_t len = 0;
  };
  void Produce();

  std::unique_ptr<ByteSource> in_;  // The thread's only.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> full_ GUARDED_BY(mu_);  // Read from in_, in order.
  std::vector<Chunk> empty_ GUARDED_BY(mu_);
  bool ended_ GUARDED_BY(mu_) = false;     // in_ has no more: after full_.
  Status error_ GUARDED_BY(mu_);           // in_'s error: after full_.
  bool stopping_ GUARDED_BY(mu_) = false;  // The destructor's.
  Chunk current_;                          // The reader's: being consumed.
  size_t at_ = 0;
  std::thread thread_;  // Last: started once the rest is built.
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_READ_AHEAD_SOURCE_H_
