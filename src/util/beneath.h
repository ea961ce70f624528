// Opening files below a directory without following symbolic links: how the
// pipeline's own files are read from disk (util/source_tree.h, FindFiles).
//
// Each component of a relative path is opened with openat(O_NOFOLLOW)
// relative to the directory opened just before it, so every name is looked
// up in a directory already held open and a symbolic link is refused at the
// moment it is met: swapping a directory for a link between two calls
// cannot redirect the walk, and no ".." is ever resolved (callers pass
// normalised paths; ".." components are refused). This is as race-free as
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), works on every kernel and
// under seccomp filters that refuse openat2, and says *which* component was
// a link, which openat2's ELOOP does not.
#ifndef SLIPWAY_UTIL_BENEATH_H_
#define SLIPWAY_UTIL_BENEATH_H_

#include <string>
#include <string_view>
#include <utility>

#include "util/unique_fd.h"

namespace slipway {

struct BeneathOpen {
  enum class Result {
    kOk,            // fd is open.
    kNoSuchFile,    // A component does not exist.
    kSymlink,       // A component is a symbolic link (not followed).
    kNotDirectory,  // A component before the last is not a directory.
    kNotRegular,    // The last is not a regular file (kFile only).
    kError,         // Anything else; error holds errno.
  };
  Result result = Result::kError;
  UniqueFd fd;
  // The path up to and including the component where the walk stopped (the
  // whole path on success).
  std::string stopped_at;
  // kSymlink: what the link points to, as written in it.
  std::string link_target;
  int error = 0;
};

enum class BeneathKind {
  kDirectory,  // Opened O_RDONLY | O_DIRECTORY.
  kFile,       // A regular file, opened O_RDONLY (never blocks on a FIFO).
};

// Opens relative ('/'-separated; empty means dir_fd's directory itself)
// below dir_fd without following any symbolic link on the way or at the end.
// Empty and "." components are skipped; a ".." component is refused as
// kNoSuchFile (it could climb out). Descriptors are close-on-exec.
BeneathOpen WalkBeneath(int dir_fd, std::string_view relative, BeneathKind kind);

// Opens dir itself (following links in dir: it is the caller's choice) as a
// directory. Invalid on failure, with errno set.
UniqueFd OpenDirectory(const std::string& dir);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_BENEATH_H_
