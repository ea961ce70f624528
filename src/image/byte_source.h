// Sequential readers of a layer's bytes: a file, and the decompression of
// one (gzip or zstd, detected by its magic number; an uncompressed tar passes
// through), so that a layer is unpacked in one pass without a temporary
// copy.
#ifndef SLIPWAY_IMAGE_BYTE_SOURCE_H_
#define SLIPWAY_IMAGE_BYTE_SOURCE_H_

#include <zstd.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

struct inflate_state;  // <isa-l/igzip_lib.h>

namespace slipway {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into buf; 0 at the end. Errors name the source.
  virtual StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

class FdSource : public ByteSource {
 public:
  FdSource(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  UniqueFd fd_;
  std::string name_;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string data) : data_(std::move(data)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  std::string data_;
  size_t at_ = 0;
};

// Gzip (any number of members, as `gzip -c a b` makes) or Zstandard (any
// number of frames; the OCI media type ...tar+zstd) when the input starts
// with that format's magic number, the input as it is otherwise.
// Decompressed output beyond max_bytes is an error (a layer that inflates
// without bound).
//
// Gzip is inflated with ISA-L's igzip (libisal, streaming isal_inflate),
// about 2.3 times as fast as zlib here (docs/benchmarks.md, "Image pull");
// each member's CRC-32 and length are checked (ISA-L's CRC costs ~1 % of
// inflating), so a layer is checked the same whether or not a digest
// covered it.
class DecompressingSource : public ByteSource {
 public:
  DecompressingSource(std::unique_ptr<ByteSource> in, std::string name, size_t max_bytes);
  ~DecompressingSource() override;
  StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  enum class Format { kPlain, kGzip, kZstd };
  Status Start();
  // Reads more input when all of it was consumed (and the input has more).
  Status Refill();
  StatusOr<size_t> ReadPlain(char* buf, size_t n);
  StatusOr<size_t> ReadGzip(char* buf, size_t n);
  StatusOr<size_t> ReadZstd(char* buf, size_t n);
  // Counts out more bytes of output; an error past max_bytes_.
  Status Produced(size_t out);
  struct InflateDeleter {
    void operator()(inflate_state* state) const;
  };
  std::unique_ptr<ByteSource> in_;
  std::string name_;
  size_t max_bytes_;
  size_t produced_ = 0;
  bool started_ = false, in_end_ = false, stream_end_ = false;
  Format format_ = Format::kPlain;
  // ISA-L's state (~110 KB, its history buffers), made for a gzip input.
  std::unique_ptr<inflate_state, InflateDeleter> gzip_;
  ZSTD_DStream* zstd_ = nullptr;
  // Whether the current zstd frame is complete (ZSTD_decompressStream
  // returned 0): the input may then end, or another frame follow.
  bool zstd_frame_done_ = true;
  std::vector<char> input_buffer_;
  size_t input_at_ = 0, input_len_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_BYTE_SOURCE_H_
