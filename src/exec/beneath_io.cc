#include "exec/beneath_io.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "exec/file_tree.h"

namespace slipway {
namespace {

// A write that keeps finding something new in its way gives up after this
// many replacements (only a concurrent writer can cause more than one).
constexpr int kMaxReplacements = 8;

// The error for errno, with errno left as it was for the caller.
Status ErrnoStatus(const std::string& what, const std::string& path) {
  int saved = errno;
  Status s = Status::Error(what + " " + path + ": " + std::strerror(saved));
  errno = saved;
  return s;
}

// -1: not probed yet; 0: no openat2 (or disabled); 1: available.
std::atomic<int> openat2_state{-1};
std::atomic<bool> openat2_disabled{false};

int Openat2(int dir_fd, const char* path, int flags, uint64_t resolve) {
#ifdef SYS_openat2
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = resolve;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, path, &how, sizeof(how)));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// Opens rel one component at a time: directories with O_PATH | O_DIRECTORY
// | O_NOFOLLOW (a symlink fails with ENOTDIR), the last with flags. Returns
// -1 with errno set as the failing openat left it.
int OpenByComponents(int dir_fd, std::string_view rel, int flags) {
  UniqueFd current;
  int at = dir_fd;
  size_t start = 0;
  int fd = -1;
  while (true) {
    size_t slash = rel.find('/', start);
    std::string name(rel.substr(start, slash == std::string_view::npos ? rel.npos : slash - start));
    if (slash == std::string_view::npos) {
      fd = openat(at, name.c_str(), flags);
      break;
    }
    int next = openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) break;
    current = UniqueFd(next);
    at = next;
    start = slash + 1;
  }
  int saved = errno;
  current.Reset();
  errno = saved;
  return fd;
}

}  // namespace

bool Openat2Available() {
  if (openat2_disabled.load()) return false;
  int state = openat2_state.load();
  if (state < 0) {
    // A real call on a path that exists: kernels without openat2 say ENOSYS;
    // seccomp filters may say EPERM. Either way, walk instead.
    int fd = Openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
    state = fd >= 0 ? 1 : 0;
    if (fd >= 0) close(fd);
    openat2_state.store(state);
  }
  return state == 1;
}

void DisableOpenat2ForTesting(bool disabled) { openat2_disabled.store(disabled); }

bool IsPlainRelativePath(std::string_view rel) {
  if (rel.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t slash = rel.find('/', start);
    std::string_view part = rel.substr(start, slash == rel.npos ? rel.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == rel.npos) return true;
    start = slash + 1;
  }
}

StatusOr<UniqueFd> OpenDirNoFollow(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return UniqueFd(fd);
  int error = errno;
  struct stat st;
  if ((error == ENOTDIR || error == ELOOP) && lstat(path.c_str(), &st) == 0 &&
      S_ISLNK(st.st_mode)) {
    errno = error;
    return Status::Error(path + " is a symbolic link, not a directory: it is not followed");
  }
  errno = error;
  return ErrnoStatus("cannot open directory", path);
}

StatusOr<UniqueFd> MakeDirNoFollow(const std::string& path, const OptionalOwner& owner) {
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status s = MakeDirs(path.substr(0, slash));
    if (!s.ok()) return s;
  }
  bool made = mkdir(path.c_str(), 0755) == 0;
  if (!made && errno != EEXIST) return ErrnoStatus("cannot create directory", path);
  StatusOr<UniqueFd> fd = OpenDirNoFollow(path);
  if (fd.ok() && made && owner && fchown(fd->get(), owner->uid, owner->gid) != 0) {
    return ErrnoStatus("cannot chown", path);
  }
  return fd;
}

StatusOr<UniqueFd> OpenBeneath(int dir_fd, std::string_view rel, int flags,
                               const std::string& shown_path) {
  if (!IsPlainRelativePath(rel)) {
    return Status::Error("cannot open " + shown_path + ": not a plain relative path");
  }
  flags |= O_NOFOLLOW | O_CLOEXEC;
  int fd = -1;
  if (rel.find('/') == std::string_view::npos) {
    fd = openat(dir_fd, std::string(rel).c_str(), flags);
  } else {
    bool walk = !Openat2Available();
    if (!walk) {
      // EAGAIN: a rename elsewhere raced with the lookup; try again, then walk.
      for (int attempt = 0; attempt < 4; ++attempt) {
        fd =
            Openat2(dir_fd, std::string(rel).c_str(), flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd >= 0 || errno != EAGAIN) break;
      }
      walk = fd < 0 && errno == EAGAIN;
    }
    if (walk) fd = OpenByComponents(dir_fd, rel, flags);
  }
  if (fd < 0) return ErrnoStatus("cannot open", shown_path);
  return UniqueFd(fd);
}

StatusOr<std::string> ReadFileBeneath(int dir_fd, std::string_view rel,
                                      const std::string& shown_path, size_t max_bytes) {
  // O_NONBLOCK: a fifo put where a file was must not hang the read.
  StatusOr<UniqueFd> fd = OpenBeneath(dir_fd, rel, O_RDONLY | O_NONBLOCK, shown_path);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (fstat(fd->get(), &st) != 0) return ErrnoStatus("cannot stat", shown_path);
  if (!S_ISREG(st.st_mode)) return Status::Error(shown_path + " is not a regular file");
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = read(fd->get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read", shown_path);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      return Status::Error(shown_path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return content;
}

StatusOr<UniqueFd> MakeDirAt(int dir_fd, const std::string& name, mode_t mode,
                             const OptionalOwner& owner, const std::string& shown_path,
                             bool* created) {
  constexpr int kOpenFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  for (int attempt = 0; attempt < kMaxReplacements; ++attempt) {
    bool made = mkdirat(dir_fd, name.c_str(), mode) == 0;
    if (!made && errno != EEXIST) return ErrnoStatus("cannot create directory", shown_path);
    int fd = openat(dir_fd, name.c_str(), kOpenFlags);
    if (fd < 0 && errno == EACCES && !made) {
      // A directory slipway may not list (a job's chmod) is still one to write into.
      fd = openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd >= 0) {
      UniqueFd dir(fd);
      if (made) {
        if (owner && fchown(fd, owner->uid, owner->gid) != 0) {
          return ErrnoStatus("cannot chown", shown_path);
        }
        if ((mode & CurrentUmask()) != 0 || (owner && (mode & 06000) != 0)) fchmod(fd, mode);
      }
      if (created != nullptr) *created = made;
      return dir;
    }
    if (errno == ENOENT) continue;  // Removed meanwhile: make it again.
    if (errno != ENOTDIR && errno != ELOOP) return ErrnoStatus("cannot open", shown_path);
    // A symlink or a file: replaced, never followed.
    Status removed = RemoveAt(dir_fd, name, shown_path);
    if (!removed.ok()) return removed;
  }
  return Status::Error("cannot create directory " + shown_path + ": it keeps being replaced");
}

StatusOr<UniqueFd> CreateFileAt(int dir_fd, const std::string& name, mode_t mode,
                                const OptionalOwner& owner, const std::string& shown_path) {
  for (int attempt = 0; attempt < kMaxReplacements; ++attempt) {
    int fd = openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    mode & 07777);
    if (fd >= 0) {
      UniqueFd file(fd);
      if (owner && fchown(fd, owner->uid, owner->gid) != 0) {
        return ErrnoStatus("cannot chown", shown_path);
      }
      return file;
    }
    if (errno != EEXIST) return ErrnoStatus("cannot create", shown_path);
    // Whatever is there (a file, perhaps hard-linked elsewhere; a symlink; a
    // directory) is removed, not written through.
    Status removed = RemoveAt(dir_fd, name, shown_path);
    if (!removed.ok()) return removed;
  }
  return Status::Error("cannot create " + shown_path + ": it keeps being replaced");
}

Status SymlinkAt(int dir_fd, const std::string& name, const std::string& target,
                 const OptionalOwner& owner, const std::string& shown_path) {
  for (int attempt = 0; attempt < kMaxReplacements; ++attempt) {
    if (symlinkat(target.c_str(), dir_fd, name.c_str()) == 0) {
      if (owner &&
          fchownat(dir_fd, name.c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus("cannot chown", shown_path);
      }
      return Status::Ok();
    }
    if (errno != EEXIST) return ErrnoStatus("cannot create link", shown_path);
    Status removed = RemoveAt(dir_fd, name, shown_path);
    if (!removed.ok()) return removed;
  }
  return Status::Error("cannot create link " + shown_path + ": it keeps being replaced");
}

Status WriteAll(int fd, std::string_view data, const std::string& shown_path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", shown_path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteFileAt(int dir_fd, const std::string& name, std::string_view content,
                   const OptionalOwner& owner, const std::string& shown_path) {
  StatusOr<UniqueFd> fd = CreateFileAt(dir_fd, name, 0644, owner, shown_path);
  if (!fd.ok()) return fd.status();
  Status s = WriteAll(fd->get(), content, shown_path);
  if (close(fd->Release()) != 0 && s.ok()) s = ErrnoStatus("cannot write", shown_path);
  return s;
}

Status CopyFileData(int in, int out, off_t size, const std::string& from, const std::string& to) {
  off_t remaining = size;
  bool use_copy_range = true;
  char buffer[65536];
  while (true) {
    ssize_t n;
    if (use_copy_range) {
      n = copy_file_range(in, nullptr, out, nullptr, remaining > 0 ? remaining : 65536, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        use_copy_range = false;
        continue;
      }
    } else {
      n = read(in, buffer, sizeof(buffer));
      if (n > 0) {
        Status s = WriteAll(out, std::string_view(buffer, static_cast<size_t>(n)), to);
        if (!s.ok()) return s;
      }
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot copy", from);
    if (n == 0) return Status::Ok();
    remaining -= std::min<off_t>(remaining, n);
  }
}

void SetModeAndTimes(int fd, mode_t mode, bool chowned, const timespec& atime,
                     const timespec& mtime) {
  mode &= 07777;
  if ((mode & CurrentUmask()) != 0 || (chowned && (mode & 06000) != 0)) fchmod(fd, mode);
  timespec times[2] = {atime, mtime};
  futimens(fd, times);
}

StatusOr<std::string> ReadLinkAt(int dir_fd, const std::string& name,
                                 const std::string& shown_path) {
  std::string target(256, '\0');
  while (true) {
    ssize_t n = readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoStatus("cannot read link", shown_path);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    if (target.size() > 65536) return Status::Error("link " + shown_path + " is too long");
    target.resize(target.size() * 4);
  }
}

DirWalker DirWalker::Reading(int root_fd, std::string root_path) {
  return DirWalker(root_fd, std::move(root_path), false, std::nullopt);
}

DirWalker DirWalker::Writing(int root_fd, std::string root_path, OptionalOwner owner) {
  return DirWalker(root_fd, std::move(root_path), true, owner);
}

const std::string& DirWalker::top_path() const {
  static const std::string kRoot;
  return levels_.empty() ? kRoot : levels_.back().path;
}

namespace {

// True if dir is prefix or lies under it ("" is everything's prefix).
bool Under(std::string_view dir, const std::string& prefix) {
  if (prefix.empty()) return true;
  return dir.starts_with(prefix) && (dir.size() == prefix.size() || dir[prefix.size()] == '/');
}

}  // namespace

StatusOr<int> DirWalker::Enter(std::string_view dir) {
  while (!levels_.empty() && !Under(dir, levels_.back().path)) levels_.pop_back();
  if (dir.size() == top_path().size()) return top();
  std::string full(dir);
  if (!IsPlainRelativePath(full)) {
    return Status::Error("cannot open " + JoinPath(root_path_, full) +
                         ": not a plain relative path");
  }
  size_t skip = top_path().empty() ? 0 : top_path().size() + 1;
  Status s = Descend(dir.substr(skip), full);
  if (!s.ok()) return s;
  return top();
}

Status DirWalker::TooDeep(const std::string& full) const {
  errno = ENAMETOOLONG;  // Not an error that says the entry has gone.
  return Status::Error("cannot open " + JoinPath(root_path_, full) + ": deeper than " +
                       std::to_string(kMaxDepth) + " directories");
}

Status DirWalker::Descend(std::string_view rest, const std::string& full) {
  if (levels_.size() >= kMaxDepth) return TooDeep(full);
  // All of rest at once where it is all real directories already.
  StatusOr<UniqueFd> fd =
      OpenBeneath(top(), rest, O_PATH | O_DIRECTORY, JoinPath(root_path_, full));
  if (fd.ok() || !write_ || (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)) {
    if (!fd.ok()) return fd.status();
    levels_.push_back({full, std::move(*fd)});
    return Status::Ok();
  }
  // Writing: one component at a time, making or replacing what is missing.
  size_t start = top_path().empty() ? 0 : top_path().size() + 1;
  while (start < full.size()) {
    if (levels_.size() >= kMaxDepth) return TooDeep(full);
    size_t slash = full.find('/', start);
    if (slash == std::string::npos) slash = full.size();
    std::string path = full.substr(0, slash);
    StatusOr<UniqueFd> made = MakeDirAt(top(), full.substr(start, slash - start), 0755, owner_,
                                        JoinPath(root_path_, path));
    if (!made.ok()) return made.status();
    levels_.push_back({std::move(path), std::move(*made)});
    start = slash + 1;
  }
  return Status::Ok();
}

void DirWalker::Adopt(std::string_view dir, UniqueFd fd) {
  size_t slash = dir.find_last_of('/');
  std::string_view parent = slash == std::string_view::npos ? "" : dir.substr(0, slash);
  if (parent != top_path() || levels_.size() >= kMaxDepth) return;  // Opened again on Enter.
  levels_.push_back({std::string(dir), std::move(fd)});
}

}  // namespace slipway
