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
  // Appends one file; mtime_unix gives the entry's DOS date and time.
  void Add(std::string_view name, std::string_view data, int64_t mtime_unix);
  // The archive: entries, then the central directory and its end record.
  std::string Finish();

 private:
  std::string out_;
  std::string central_;
  uint16_t entries_ = 0;
};

// Bytes of files a download may zip at once (the archive is built in memory).
constexpr int64_t kMaxZipInputBytes = int64_t{512} << 20;

// Every regular file under root (not following symbolic links), sorted by
// path, as a ZIP archive. Fails if the files exceed max_input_bytes, there
// are more than 65,535, or one cannot be read.
StatusOr<std::string> ZipDirectory(const std::filesystem::path& root, int64_t max_input_bytes);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_ZIP_WRITER_H_
