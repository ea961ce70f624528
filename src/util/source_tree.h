// Where a pipeline's own files are read: the project directory as it is on
// disk, or the tree of one commit. GitLab reads `.gitlab-ci.yml`, its local
// includes and the files `rules:exists` looks for at the pipeline's commit;
// `slipway run --ref REV` and the server do the same through a commit tree.
//
// No file is ever read through a symbolic link, and nothing outside dir is
// read at all. GitLab reads a repository through its git objects (Gitaly's
// GetBlobs looks each path up tree by tree), where a link is a blob whose
// content is the link's target: reading a linked file yields the target's
// name, and a path through a linked directory does not exist. The disk is
// read the same way (util/beneath.h), so the disk and a commit agree, and a
// committed link to /etc/passwd or ../../secret reveals nothing.
#ifndef SLIPWAY_UTIL_SOURCE_TREE_H_
#define SLIPWAY_UTIL_SOURCE_TREE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/glob.h"
#include "util/status.h"

namespace slipway {

// Why SourceTree::Read returned no content.
struct ReadError {
  enum class Kind {
    kNoSuchFile,
    kNotRegularFile,  // A directory, a submodule, a device ...
    kSymlink,         // The path itself is a symbolic link.
    kSymlinkInPath,   // A directory on the way is a symbolic link.
    kOutside,         // An absolute path, or one that leaves dir with "..".
    kOther,           // The system's or git's reason is in the Status.
  };
  Kind kind = Kind::kOther;
  std::string link;         // kSymlink*: the link's dir-relative path.
  std::string link_target;  // kSymlink*: what it points to, as written.
};

// Not thread-safe: a commit tree lists its files once, on first use.
class SourceTree {
 public:
  // The files on disk under dir (dir itself may be reached through links).
  static SourceTree WorkTree(std::string dir);
  // The files of commit (a commit id) below dir, in the repository at dir.
  // label is how messages name the commit (the revision the user gave);
  // empty: messages name files by their path alone (the server).
  static SourceTree AtCommit(std::string dir, std::string commit, std::string label);

  const std::string& dir() const { return dir_; }
  bool at_commit() const { return !commit_.empty(); }

  // How messages name path (relative): "path" on disk, "label:path" in a
  // commit with a label.
  std::string Name(const std::string& path) const;

  // The dir-relative path of a file the user names (`-f FILE`: relative to
  // dir, or absolute). It must lie inside dir once every symbolic link is
  // resolved; the path returned keeps the user's names below dir, so Read
  // still refuses a link there. At a commit a relative path is only
  // normalised (the disk may differ from the commit). Errors name the file
  // and say where it leads.
  StatusOr<std::string> Locate(const std::string& file) const;

  // The content of path (relative to dir; normalised; absolute paths and
  // paths that leave dir are kOutside). Never follows a symbolic link.
  // Errors: "no such file", "not a regular file", "`link` is a symbolic link
  // to `target`", "outside the project directory", or the system's or git's
  // reason; *error (when given) says which.
  StatusOr<std::string> Read(const std::string& path, ReadError* error = nullptr) const;

  // The files whose dir-relative path matches pattern, sorted. A symbolic
  // link is a file here (as in git's tree) and never a directory to look
  // into. On disk every file below dir counts (FindFiles); at a commit, the
  // commit's files.
  StatusOr<std::vector<std::string>> Find(std::string_view pattern, GlobSyntax syntax) const;

 private:
  // One entry of the commit's tree, as `git ls-tree -r` lists it.
  struct Entry {
    std::string path;
    std::string mode;  // "100644", "100755", "120000" (link), "160000" (submodule).
  };

  SourceTree(std::string dir, std::string commit, std::string label)
      : dir_(std::move(dir)), commit_(std::move(commit)), label_(std::move(label)) {}
  StatusOr<std::string> ReadDisk(const std::string& path, ReadError* error) const;
  StatusOr<std::string> ReadCommit(const std::string& path, ReadError* error) const;
  // The commit's entries sorted by path, listed on first use.
  StatusOr<const std::vector<Entry>*> CommitEntries() const;
  static const Entry* FindEntry(const std::vector<Entry>& entries, const std::string& path);

  std::string dir_;
  std::string commit_;  // Empty: the files on disk.
  std::string label_;
  mutable std::optional<StatusOr<std::vector<Entry>>> entries_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SOURCE_TREE_H_
