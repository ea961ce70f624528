// A streaming reader of tar archives as image layers are written (POSIX
// ustar with PAX extended headers, GNU long names, base-256 sizes). It
// reports entries as the archive states them; deciding where they may go
// is the unpacker's (image/layer_unpack.h). Every header's checksum is
// checked, and names, link targets and PAX headers are bounded.
#ifndef SLIPWAY_IMAGE_TAR_READER_H_
#define SLIPWAY_IMAGE_TAR_READER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "image/byte_source.h"
#include "util/status.h"

namespace slipway {

struct TarEntry {
  enum class Type { kFile, kHardLink, kSymlink, kCharDevice, kBlockDevice, kDirectory, kFifo };
  Type type = Type::kFile;
  std::string path;         // As written in the archive.
  std::string link_target;  // Of a hard link or a symlink.
  mode_t mode = 0;          // Permission bits (07777).
  int64_t size = 0;         // Of a file's data.
  int64_t mtime = 0;        // Seconds since the epoch.
};

class TarReader {
 public:
  // Longer names, link targets and PAX records are errors.
  static constexpr size_t kMaxPathBytes = 4096;
  static constexpr size_t kMaxPaxBytes = 1 << 20;

  // in must outlive the reader; name is used in errors.
  TarReader(ByteSource* in, std::string name) : in_(in), name_(std::move(name)) {}

  // The next entry (its data, unread, is skipped), or false at the end.
  StatusOr<bool> Next(TarEntry* entry);
  // Reads up to n bytes of the current entry's data; 0 at its end.
  StatusOr<size_t> ReadData(char* buf, size_t n);

 private:
  Status ReadExact(char* buf, size_t n);
  Status Skip(int64_t n);
  StatusOr<std::string> ReadBlob(int64_t size, const char* what);
  Status Error(const std::string& why) const;

  ByteSource* in_;
  std::string name_;
  int64_t left_ = 0;     // Data left in the current entry.
  int64_t padding_ = 0;  // Padding after it.
  int64_t offset_ = 0;   // Bytes of the archive consumed, for errors.
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TAR_READER_H_
