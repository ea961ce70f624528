// Copying, listing and removing directory trees, the file operations behind
// workspaces, artifacts and caches. Copies keep file modes, symlinks and
// modification times (so make-style tools see restored build outputs as
// newer than the sources they came from) and use copy_file_range, which
// stays in the kernel. Trees are walked through directory descriptors and
// never through a symlink (beneath_io.h): a job's workspace may hold any.
#ifndef SLIPWAY_EXEC_FILE_TREE_H_
#define SLIPWAY_EXEC_FILE_TREE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "exec/beneath_io.h"
#include "util/status.h"

namespace slipway {

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct TreeEntry {
  std::string path;  // Relative to the listed root, '/'-separated.
  EntryType type = EntryType::kFile;
};

// Every entry under root (not root itself), parents before children, sorted
// by name within a directory. Top-level entries named in skip_top_level (e.g.
// ".git") are left out with their contents. root may be reached through a
// symlink (a project directory may be); nothing under it is followed.
// Trees deeper than kMaxTreeDepth directories are an error.
StatusOr<std::vector<TreeEntry>> ListTree(const std::string& root,
                                          const std::vector<std::string>& skip_top_level = {});
constexpr size_t kMaxTreeDepth = 256;

// ListTree beneath the open directory root_fd (root_path names it in
// errors), for trees a job controls. An entry that disappears while it is
// listed is left out; a directory that becomes something else (a symlink) is
// listed as what it has become, and never entered.
StatusOr<std::vector<TreeEntry>> ListTreeAt(int root_fd, const std::string& root_path,
                                            const std::vector<std::string>& skip_top_level = {});

// The names in one directory (not recursive, without "." and ".."), sorted.
StatusOr<std::vector<std::string>> ListNames(const std::string& dir);

// Copies one file, symlink or (empty) directory from `from` to `to`, creating
// to's parent directories. An existing entry at `to` is replaced. For paths
// slipway owns: only their last components are not followed.
Status CopyEntry(const std::string& from, const std::string& to);

// Copies the entries (ListTree order, paths relative to from_fd) to the same
// paths beneath to_fd, with the primitives of beneath_io.h: no symlink is
// followed on either side, whatever is in the way is replaced, missing
// parents are made (0755), and every entry made is given owner if set. Each
// entry is copied as what it is when it is copied, whatever the list says;
// one that has gone by then, or whose parent is no longer a directory (a job
// swapped it for a symlink), is skipped. Paths name the roots in errors.
Status CopyEntriesAt(int from_fd, const std::string& from_path,
                     const std::vector<TreeEntry>& entries, int to_fd, const std::string& to_path,
                     const OptionalOwner& owner = {});

// CopyEntriesAt from the directory from_root into to_root (created, with
// its parents, if missing); neither may be a symlink.
Status CopyEntries(const std::string& from_root, const std::vector<TreeEntry>& entries,
                   const std::string& to_root, const OptionalOwner& owner = {});

// Copies the whole tree under from_root into to_root as CopyEntries does
// (merging with what is there; entries are replaced), skipping the named
// top-level entries.
Status CopyTree(const std::string& from_root, const std::string& to_root,
                const std::vector<std::string>& skip_top_level = {},
                const OptionalOwner& owner = {});

// Removes path and everything under it; a missing path is not an error.
Status RemoveTree(const std::string& path);

// Removes the entry `name` of the directory open as dir_fd, and everything
// under it if it is a directory; path names it in errors.
Status RemoveAt(int dir_fd, const std::string& name, const std::string& path);

// mkdir -p.
Status MakeDirs(const std::string& path);

// Makes the directory path with exactly mode, whatever the umask (the
// server's is 077): for directories that a job running as another user must
// traverse. An existing entry is an error ("cannot make DIR: File exists").
Status MakeDirWithMode(const std::string& path, mode_t mode);

// Reads a whole file; max_bytes bounds what is read (larger files are an
// error naming the limit).
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = size_t{64} << 20);
Status WriteFile(const std::string& path, std::string_view content);
// Writes content into a new file name (mode 0644) in the directory dir,
// replacing whatever entry has that name: a symlink left there (say, by a
// job beside its workspace) is replaced, never written through.
Status ReplaceFile(const std::string& dir, const std::string& name, std::string_view content);

// True if path exists (without following a final symlink).
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

std::string JoinPath(std::string_view a, std::string_view b);

// The process's umask, read once without changing it (umask() would race with
// other threads creating files).
mode_t CurrentUmask();

}  // namespace slipway

#endif  // SLIPWAY_EXEC_FILE_TREE_H_
