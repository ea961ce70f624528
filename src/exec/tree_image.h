// A directory tree read once so that it can be written out many times, as a
// run's snapshot is written into every job's workspace. Each entry's type,
// mode and times are kept, and the contents of small files are held in
// memory, so writing a copy reads nothing back from disk: one openat, write,
// futimens and close per small file, created relative to its parent
// directory's descriptor (no path walks from the root). Larger files are
// copied from the tree with copy_file_range. The copy is a real copy: nothing
// is shared with the source, so a job can change its files freely.
//
// A copy can also be brought back to the image after a job changed it
// (WriteTo with Stamps): what the job added is removed, what it changed or
// removed is written again, and what it left alone is kept. That is how a
// run reuses one workspace directory for job after job without creating and
// deleting every file each time (see workspace.h).
#ifndef SLIPWAY_EXEC_TREE_IMAGE_H_
#define SLIPWAY_EXEC_TREE_IMAGE_H_

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
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
  // written_from: an image just written into root (the snapshot, written
  // from the project's image): a file whose size and modification time are
  // its item's there takes that item's contents instead of being read again.
  static StatusOr<TreeImage> Read(const std::string& root, const std::vector<TreeEntry>& entries,
                                  const TreeImage* written_from = nullptr);

  // What a WriteTo left in its destination: for every file it wrote or
  // found unchanged, the file's inode and change time then, and which content
  // it holds. The next WriteTo into the same directory (from this image or a
  // later one, in this process or another: see Save and Load) keeps a file
  // whose inode, change time, size, modification time and mode are still
  // those, and whose content is the one wanted, and writes the rest again.
  // A file's change time moves with every write, chmod, link or rename, and
  // user space cannot set it back. One Stamps belongs to one directory.
  struct Stamps {
    struct File {
      ino_t ino = 0;
      timespec ctime{};
      uint64_t content = 0;  // Hash of the content (see Item::content).
    };
    std::unordered_map<std::string, File> files;  // By path in the tree.
    timespec written_at{};                        // When that WriteTo finished.

    // Writes the stamps to path (via path.tmp and a rename).
    Status Save(const std::string& path) const;
    // The stamps saved at path; none if it is missing or unreadable (then
    // every file is written again, which is always safe).
    static Stamps Load(const std::string& path);
  };

  // Makes dest hold exactly the tree; its parent must exist. The copy keeps
  // modes (directories get owner rwx, as CopyEntry gives them), symlinks and
  // file times. Whatever dest already holds is reconciled: entries the tree
  // does not have are removed, entries of the wrong type or content are
  // replaced (never written through: they may be hard links). With stamps,
  // a file whose stamp shows it untouched since the last WriteTo into dest
  // is kept as it is; a file written too shortly before that WriteTo ended
  // for its change time to tell (the file system's clock is coarse) is
  // compared by content instead. stamps is updated; on error it is cleared.
  // Nothing is written through a symlink (dest included: a link there is an
  // error): entries are made beneath their parent's descriptor (beneath_io.h).
  // With owner, every entry made belongs to it, and one kept that does not
  // is given to it (a kept file is written again).
  Status WriteTo(const std::string& dest, Stamps* stamps = nullptr,
                 const OptionalOwner& owner = {}) const;

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
    // Which content a file has: a hash of data when cached, else of its
    // size and modification time (as git's index tells files apart).
    uint64_t content = 0;
  };

  // Writes one file under dir_fd; on success *written holds its stat.
  Status WriteFile(int dir_fd, const Item& item, const std::string& dest,
                   const OptionalOwner& owner, struct stat* written) const;
  Status Write(const std::string& dest, Stamps* stamps, const OptionalOwner& owner) const;
  const Item* Find(const std::string& path) const;  // Null if the tree has no such entry.
  // True if the file (st: its lstat, stamp: what the last write into its
  // directory left, at written_at) holds the item's content, untouched.
  bool Unchanged(int dir_fd, const Item& item, const struct stat& st, const Stamps::File& stamp,
                 const timespec& written_at) const;
  // Removes the entries of the directory dir_fd (rel: its path in the tree,
  // dest: the tree's root, for errors) that the tree does not have.
  Status RemoveExtras(int dir_fd, const std::string& rel, const std::string& dest) const;

  std::string root_;
  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;  // Path -> its item.
  size_t cached_bytes_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_TREE_IMAGE_H_
