// A directory tree read once so that it can be written out many times, as a
// run's snapshot is written into every job's workspace. Each entry's type,
// mode and times are kept, and the contents of small files are held in
// memory, so writing a copy reads nothing back from disk: one openat, write,
// futimens and close per small file, created relative to its parent
// directory's descriptor (no path walks from the root). Larger files are
// copied from the tree with copy_file_range. The copy is a real copy: nothing
// is shared with the source, so a job can change its files freely.
#ifndef SLIPWAY_EXEC_TREE_IMAGE_H_
#define SLIPWAY_EXEC_TREE_IMAGE_H_

#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <vector>

#include "exec/file_tree.h"
#include "util/status.h"

namespace slipway {

class TreeImage {
 public:
  // Files up to this size are held in memory, while the image holds less
  // than kMaxCachedBytes in all; the rest are copied from disk.
  static constexpr size_t kMaxCachedFileBytes = size_t{64} << 10;
  static constexpr size_t kMaxCachedBytes = size_t{16} << 20;

  // Reads the entries (as ListTree returns them: parents before children)
  // under root. The tree must not change while the image is used.
  static StatusOr<TreeImage> Read(const std::string& root, const std::vector<TreeEntry>& entries);

  // Writes the tree into dest, which must not exist or be an empty
  // directory; its parent must exist. The copy keeps modes (directories get
  // owner rwx, as CopyEntry gives them), symlinks and file times.
  Status WriteTo(const std::string& dest) const;

  size_t cached_bytes() const { return cached_bytes_; }

 private:
  struct Item {
    std::string path;  // Relative to root_.
    std::string name;  // Last component of path.
    size_t depth = 0;  // Number of '/' in path.
    EntryType type = EntryType::kFile;
    mode_t mode = 0;
    timespec atime{};
    timespec mtime{};
    off_t size = 0;
    bool cached = false;
    std::string data;  // Cached file contents, or a symlink's target.
  };

  Status WriteFile(int dir_fd, const Item& item, const std::string& dest) const;

  std::string root_;
  std::vector<Item> items_;
  size_t cached_bytes_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_TREE_IMAGE_H_
