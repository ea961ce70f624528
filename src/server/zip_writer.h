// A minimal ZIP writer (PKWARE APPNOTE 6.3: local headers, deflate via zlib,
// central directory; no ZIP64, so archives stay under 4 GiB) for
// GET .../jobs/:id/artifacts. Names are UTF-8 (general purpose bit 11).
#ifndef SLIPWAY_SERVER_ZIP_WRITER_H_
#define SLIPWAY_SERVER_ZIP_WRITER_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.h"

namespace slipway {

class ZipWriter {
 public:
  // Appends one regular file with its permission bits (mode & 07777);
  // mtime_unix gives the entry's DOS date and time.
  void Add(std::string_view name, std::string_view data, int64_t mtime_unix, uint32_t mode = 0644);
  // Appends a directory entry, "name/".
  void AddDirectory(std::string_view name, int64_t mtime_unix, uint32_t mode = 0755);
  // Appends a symbolic link as GitLab Runner's archiver (and Info-ZIP's
  // zip -y) stores one: uncompressed, its target as the data, S_IFLNK in the
  // Unix mode of the external attributes. Unzip tools recreate the link; no
  // file is read through it.
  void AddSymlink(std::string_view name, std::string_view target, int64_t mtime_unix);
  // The archive: entries, then the central directory and its end record.
  std::string Finish();

 private:
  // unix_mode: file type and permission bits, stored in the external
  // attributes' high half; deflate: compress when that makes data smaller.
  void AddEntry(std::string_view name, std::string_view data, int64_t mtime_unix,
                uint32_t unix_mode, bool deflate);

  std::string out_;
  std::string central_;
  uint16_t entries_ = 0;
};

// Bytes of files a download may zip at once (the archive is built in memory).
constexpr int64_t kMaxZipInputBytes = int64_t{512} << 20;

// Everything under root as a ZIP archive, in ListTree order (parents before
// children, sorted by name): directories, regular files with their modes,
// and symbolic links stored as links. root is read beneath its descriptor
// without following any symlink (beneath_io.h): a link in the artifacts to a
// file of the server's (its database) puts the link in the archive, never
// the file. Fails if the files exceed max_input_bytes, there are more than
// 65,535 entries, or one cannot be read.
StatusOr<std::string> ZipDirectory(const std::filesystem::path& root, int64_t max_input_bytes);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_ZIP_WRITER_H_
