// File operations beneath an open directory that never follow a symbolic
// link: the primitives behind every write slipway makes into a job's
// workspace (caches and artifacts restored, the workspace reconciled) and
// every read it makes out of one (artifacts and caches collected, artifact
// archives served).
//
// A job controls its workspace: it may leave a symlink anywhere in it, or
// swap a directory for one while slipway works on it (so may a concurrent job
// of the same user). A path handed to the kernel would be resolved through
// such a link, out of the workspace. So nothing here gives the kernel a path
// of more than one component except openat2 with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS (Linux 5.6 and later, probed once); without it a path
// is walked one component at a time, each opened with O_NOFOLLOW relative to
// its parent's descriptor. A last component is opened with O_NOFOLLOW or
// created with O_EXCL, mkdirat or symlinkat, none of which follows a link.
// Only roots (a workspace, an artifacts directory) are opened by path, and
// then without following a link at their last component: their parents are
// slipway's own.
//
// Writes replace what is in their way. A symlink or a file where a
// directory must be, or anything where a file or a symlink goes, is removed
// (the link, never what it points to) and the entry created in its place:
// what GNU tar does with a directory entry over an existing symlink (unless
// --keep-directory-symlink) and libarchive with ARCHIVE_EXTRACT_UNLINK, and
// the rule of artifacts and caches that a later tree's entries replace
// earlier ones (docs/artifacts.md).
//
// Every entry created is given FileOwner, when one is set (fchown, or
// fchownat with AT_SYMLINK_NOFOLLOW for a symlink), so that a server running
// as root can restore files that belong to the user its jobs run as.
#ifndef SLIPWAY_EXEC_BENEATH_IO_H_
#define SLIPWAY_EXEC_BENEATH_IO_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

// Who created files, directories and symlinks belong to. Unset (the
// default everywhere): whoever created them, i.e. slipway's own user.
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};
using OptionalOwner = std::optional<FileOwner>;

// Whether openat2 resolves paths here (probed on first use). Tests can turn
// it off to exercise the component-by-component walk on any kernel.
bool Openat2Available();
void DisableOpenat2ForTesting(bool disabled);

// True if rel is a relative path whose components are all real names: not
// empty, no "." or "..", no leading or doubled '/'.
bool IsPlainRelativePath(std::string_view rel);

// Opens path as a directory (O_DIRECTORY | O_CLOEXEC), following no symlink
// at its last component: a symlink there is an error naming it.
StatusOr<UniqueFd> OpenDirNoFollow(const std::string& path);
// The same, creating path (0755 and owner) and its missing parents first.
StatusOr<UniqueFd> MakeDirNoFollow(const std::string& path, const OptionalOwner& owner = {});

// Opens rel (IsPlainRelativePath) beneath dir_fd with flags (O_CLOEXEC and
// O_NOFOLLOW are added). Fails with errno ELOOP or ENOTDIR, and a message
// naming shown_path, if a component of rel is a symlink.
StatusOr<UniqueFd> OpenBeneath(int dir_fd, std::string_view rel, int flags,
                               const std::string& shown_path);

// Reads the regular file rel beneath dir_fd (no symlink anywhere in rel; a
// fifo or device is an error, and never blocks); max_bytes bounds it.
StatusOr<std::string> ReadFileBeneath(int dir_fd, std::string_view rel,
                                      const std::string& shown_path,
                                      size_t max_bytes = size_t{64} << 20);

// The directory name in the directory dir_fd, open, created with
// mode if missing (then given owner and, where the umask took bits, chmod-ed
// to mode); whatever else is there — a symlink, a file — is replaced by it.
// An existing directory is kept as it is. *created says which happened.
StatusOr<UniqueFd> MakeDirAt(int dir_fd, const std::string& name, mode_t mode,
                             const OptionalOwner& owner, const std::string& shown_path,
                             bool* created = nullptr);

// Creates the regular file name in dir_fd for writing (O_EXCL, so never
// through a link), replacing whatever is there, and gives it owner. Its mode
// is mode & ~umask: see SetModeAndTimes.
StatusOr<UniqueFd> CreateFileAt(int dir_fd, const std::string& name, mode_t mode,
                                const OptionalOwner& owner, const std::string& shown_path);

// Creates the symlink name -> target in dir_fd, replacing whatever is there.
Status SymlinkAt(int dir_fd, const std::string& name, const std::string& target,
                 const OptionalOwner& owner, const std::string& shown_path);

// Writes content into a new file name in dir_fd (CreateFileAt), mode 0644.
Status WriteFileAt(int dir_fd, const std::string& name, std::string_view content,
                   const OptionalOwner& owner, const std::string& shown_path);

// Writes all of data to fd.
Status WriteAll(int fd, std::string_view data, const std::string& shown_path);
// Copies size bytes (fewer if the file ends first) from in to out, with
// copy_file_range where the file systems allow it.
Status CopyFileData(int in, int out, off_t size, const std::string& from, const std::string& to);
// Sets a file just written to mode (when the umask took bits from it, or a
// chown cleared set-id bits) and to the access and modification times.
void SetModeAndTimes(int fd, mode_t mode, bool chowned, const timespec& atime,
                     const timespec& mtime);

// The target of the symlink name in dir_fd.
StatusOr<std::string> ReadLinkAt(int dir_fd, const std::string& name,
                                 const std::string& shown_path);

// The descriptors of the directories along one path beneath a root, so that
// a walk over entries in ListTree order (parents before children) opens each
// directory once and never resolves a path from the root. Not thread-safe.
class DirWalker {
 public:
  // Deeper paths are refused, which bounds the descriptors a walker holds.
  static constexpr size_t kMaxDepth = 256;

  // root_fd stays the caller's and must outlive the walker; root_path names
  // it in errors. A writing walker makes missing directories (0755, owner)
  // and replaces whatever is in the way of one (MakeDirAt); a reading walker
  // fails on it.
  static DirWalker Reading(int root_fd, std::string root_path);
  static DirWalker Writing(int root_fd, std::string root_path, OptionalOwner owner);

  // A descriptor of the directory dir ("" is the root, else
  // IsPlainRelativePath), valid until the next call. On error errno says
  // why (ENOENT, ENOTDIR or ELOOP: dir or a parent is missing or not a
  // directory).
  StatusOr<int> Enter(std::string_view dir);
  // Makes fd, the directory dir just opened under the directory last
  // entered, the current one (so that entering dir opens nothing).
  void Adopt(std::string_view dir, UniqueFd fd);

  const std::string& root_path() const { return root_path_; }

 private:
  DirWalker(int root_fd, std::string root_path, bool write, OptionalOwner owner)
      : root_fd_(root_fd), root_path_(std::move(root_path)), write_(write), owner_(owner) {}
  int top() const { return levels_.empty() ? root_fd_ : levels_.back().fd.get(); }
  const std::string& top_path() const;
  Status Descend(std::string_view rest, const std::string& full);
  Status TooDeep(const std::string& full) const;

  struct Level {
    std::string path;  // Relative to the root.
    UniqueFd fd;
  };
  int root_fd_;
  std::string root_path_;
  bool write_;
  OptionalOwner owner_;
  std::vector<Level> levels_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_BENEATH_IO_H_
