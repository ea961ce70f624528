// Copying, listing and removing directory trees, the file operations behind
// workspaces, artifacts and caches. Copies keep file modes, symlinks and
// modification times (so make-style tools see restored build outputs as
// newer than the sources they came from) and use copy_file_range, which
// stays in the kernel.
#ifndef SLIPWAY_EXEC_FILE_TREE_H_
#define SLIPWAY_EXEC_FILE_TREE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace slipway {

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct TreeEntry {
  std::string path;  // Relative to the listed root, '/'-separated.
  EntryType type = EntryType::kFile;
};

// Every entry under root (not root itself), parents before children, sorted
// by name within a directory. Top-level entries named in skip_top_level (e.g.
// ".git") are left out with their contents. Symlinks are not followed.
StatusOr<std::vector<TreeEntry>> ListTree(const std::string& root,
                                          const std::vector<std::string>& skip_top_level = {});

// The names in one directory (not recursive, without "." and ".."), sorted.
StatusOr<std::vector<std::string>> ListNames(const std::string& dir);

// Copies one file, symlink or (empty) directory from `from` to `to`, creating
// to's parent directories. An existing file at `to` is replaced.
Status CopyEntry(const std::string& from, const std::string& to);

// Copies the entries (as returned by ListTree, relative to from_root) into
// to_root, which is created if missing.
Status CopyEntries(const std::string& from_root, const std::vector<TreeEntry>& entries,
                   const std::string& to_root);

// Copies the whole tree under from_root into to_root (merging with what is
// there; files are replaced), skipping the named top-level entries.
Status CopyTree(const std::string& from_root, const std::string& to_root,
                const std::vector<std::string>& skip_top_level = {});

// Removes path and everything under it; a missing path is not an error.
Status RemoveTree(const std::string& path);

// Removes the entry `name` of the directory open as dir_fd, and everything
// under it if it is a directory; path names it in errors.
Status RemoveAt(int dir_fd, const std::string& name, const std::string& path);

// mkdir -p.
Status MakeDirs(const std::string& path);

// Reads a whole file; max_bytes bounds what is read (larger files are an
// error naming the limit).
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = size_t{64} << 20);
Status WriteFile(const std::string& path, std::string_view content);

// True if path exists (without following a final symlink).
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

std::string JoinPath(std::string_view a, std::string_view b);

// The process's umask, read once without changing it (umask() would race with
// other threads creating files).
mode_t CurrentUmask();

}  // namespace slipway

#endif  // SLIPWAY_EXEC_FILE_TREE_H_
