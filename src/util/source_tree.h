// Where a pipeline's own files are read: the project directory as it is on
// disk, or the tree of one commit. GitLab reads `.gitlab-ci.yml`, its local
// includes and the files `rules:exists` looks for at the pipeline's commit;
// `slipway run --ref REV` does the same through a commit tree.
#ifndef SLIPWAY_UTIL_SOURCE_TREE_H_
#define SLIPWAY_UTIL_SOURCE_TREE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/glob.h"
#include "util/status.h"

namespace slipway {

// Not thread-safe: a commit tree lists its files once, on first use.
class SourceTree {
 public:
  // The files on disk under dir.
  static SourceTree WorkTree(std::string dir);
  // The files of commit (a commit id) below dir, in the repository at dir.
  // label is how messages name the commit (the revision the user gave).
  static SourceTree AtCommit(std::string dir, std::string commit, std::string label);

  const std::string& dir() const { return dir_; }
  bool at_commit() const { return !commit_.empty(); }

  // How messages name path (relative): "path" on disk, "label:path" in a
  // commit.
  std::string Name(const std::string& path) const;

  // The content of path (relative to dir, normalised, not leaving dir; an
  // absolute path is read from disk, and at a commit is an error). Errors:
  // "no such file", "not a regular file", or the system's or git's reason.
  StatusOr<std::string> Read(const std::string& path) const;

  // The files whose dir-relative path matches pattern, sorted. On disk every
  // file below dir counts (FindFiles); at a commit, the commit's files.
  StatusOr<std::vector<std::string>> Find(std::string_view pattern, GlobSyntax syntax) const;

 private:
  SourceTree(std::string dir, std::string commit, std::string label)
      : dir_(std::move(dir)), commit_(std::move(commit)), label_(std::move(label)) {}
  // The commit's files, listed on first use.
  StatusOr<const std::vector<std::string>*> CommitFiles() const;

  std::string dir_;
  std::string commit_;  // Empty: the files on disk.
  std::string label_;
  mutable std::optional<StatusOr<std::vector<std::string>>> files_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SOURCE_TREE_H_
