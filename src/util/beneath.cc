#include "util/beneath.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace slipway {
namespace {

using Result = BeneathOpen::Result;

// Classifies a name that could not be opened: a link (its target is read),
// or something that is not what was asked for.
void Classify(int dir_fd, const std::string& name, Result not_link, BeneathOpen* out) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    out->error = errno;
    out->result = errno == ENOENT ? Result::kNoSuchFile : Result::kError;
    return;
  }
  if (!S_ISLNK(st.st_mode)) {
    out->result = not_link;
    return;
  }
  out->result = Result::kSymlink;
  char target[PATH_MAX];
  ssize_t n = readlinkat(dir_fd, name.c_str(), target, sizeof target);
  if (n > 0) out->link_target.assign(target, static_cast<size_t>(n));
}

}  // namespace

UniqueFd OpenDirectory(const std::string& dir) {
  return UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

BeneathOpen WalkBeneath(int dir_fd, std::string_view relative, BeneathKind kind) {
  BeneathOpen out;
  // The directory the next name is looked up in; starts as a duplicate of
  // dir_fd so that the result is always a descriptor the caller owns.
  UniqueFd current(fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) {
    out.error = errno;
    return out;
  }
  size_t pos = 0;
  while (pos <= relative.size()) {
    size_t slash = relative.find('/', pos);
    if (slash == std::string_view::npos) slash = relative.size();
    std::string name(relative.substr(pos, slash - pos));
    bool last = relative.find_first_not_of('/', slash) == std::string_view::npos;
    pos = slash + 1;
    if (name.empty() || name == ".") {
      if (last) break;
      continue;
    }
    if (!out.stopped_at.empty()) out.stopped_at += '/';
    out.stopped_at += name;
    if (name == "..") {
      out.result = Result::kNoSuchFile;
      return out;
    }
    if (last && kind == BeneathKind::kFile) {
      struct stat st;
      if (fstatat(current.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        out.error = errno;
        out.result = errno == ENOENT ? Result::kNoSuchFile : Result::kError;
        return out;
      }
      if (S_ISLNK(st.st_mode)) {
        Classify(current.get(), name, Result::kNotRegular, &out);
        return out;
      }
      if (!S_ISREG(st.st_mode)) {
        out.result = Result::kNotRegular;
        return out;
      }
      // O_NONBLOCK: should the name have become a FIFO since fstatat, the
      // open returns at once and fstat below refuses it.
      UniqueFd file(openat(current.get(), name.c_str(),
                           O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (!file.valid()) {
        out.error = errno;
        if (errno == ELOOP) {
          Classify(current.get(), name, Result::kError, &out);
        } else {
          out.result = errno == ENOENT ? Result::kNoSuchFile : Result::kError;
        }
        return out;
      }
      if (fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        out.result = Result::kNotRegular;
        return out;
      }
      // Reads block normally from here on.
      fcntl(file.get(), F_SETFL, fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);
      out.result = Result::kOk;
      out.fd = std::move(file);
      return out;
    }
    UniqueFd next(
        openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      out.error = errno;
      if (errno == ENOENT) {
        out.result = Result::kNoSuchFile;
      } else if (errno == ELOOP || errno == ENOTDIR) {
        Classify(current.get(), name, Result::kNotDirectory, &out);
      }
      return out;
    }
    current = std::move(next);
    if (last) break;
  }
  if (kind == BeneathKind::kFile) {
    // The path named the starting directory itself.
    out.result = Result::kNotRegular;
    return out;
  }
  out.result = Result::kOk;
  out.fd = std::move(current);
  return out;
}

}  // namespace slipway
