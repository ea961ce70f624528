#include "exec/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace slipway {
namespace {

// The error for errno, with errno left as it was for the caller.
Status ErrnoStatus(const std::string& what, const std::string& path) {
  int saved = errno;
  Status s = Status::Error(what + " " + path + ": " + std::strerror(saved));
  errno = saved;
  return s;
}

EntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDirectory;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  return EntryType::kOther;
}

// Lists the directory open as fd (closed here), whose path in the tree is
// rel, into out, and its subdirectories after each of them.
Status ListInto(int fd, const std::string& root, const std::string& rel, size_t depth,
                const std::vector<std::string>& skip, std::vector<TreeEntry>* out) {
  std::string dir_path = rel.empty() ? root : JoinPath(root, rel);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    Status s = ErrnoStatus("cannot list", dir_path);
    close(fd);
    return s;
  }
  std::vector<std::pair<std::string, EntryType>> children;
  int dir_fd = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (rel.empty() && std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    EntryType type;
    switch (e->d_type) {
      case DT_REG:
        type = EntryType::kFile;
        break;
      case DT_DIR:
        type = EntryType::kDirectory;
        break;
      case DT_LNK:
        type = EntryType::kSymlink;
        break;
      default: {
        struct stat st;
        if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;  // Gone meanwhile.
          Status s = ErrnoStatus("cannot stat", JoinPath(dir_path, name));
          closedir(dir);
          return s;
        }
        type = TypeOf(st.st_mode);
      }
    }
    children.emplace_back(std::move(name), type);
  }
  std::sort(children.begin(), children.end());
  Status status;
  for (auto& [name, type] : children) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (type != EntryType::kDirectory) {
      out->push_back({std::move(child), type});
      continue;
    }
    if (depth + 1 >= kMaxTreeDepth) {
      status = Status::Error("cannot list " + JoinPath(root, child) + ": deeper than " +
                             std::to_string(kMaxTreeDepth) + " directories");
      break;
    }
    int child_fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child_fd < 0) {
      int error = errno;
      struct stat st;
      if (error == ENOTDIR || error == ELOOP || error == ENOENT) {
        // Replaced since readdir: listed as what it is now, never entered.
        if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;
          status = ErrnoStatus("cannot stat", JoinPath(root, child));
          break;
        }
        if (!S_ISDIR(st.st_mode)) {
          out->push_back({std::move(child), TypeOf(st.st_mode)});
          continue;
        }
      }
      errno = error;
      status = ErrnoStatus("cannot list", JoinPath(root, child));
      break;
    }
    out->push_back({child, type});
    status = ListInto(child_fd, root, child, depth + 1, skip, out);
    if (!status.ok()) break;
  }
  closedir(dir);
  return status;
}

// "a/b/c" -> "a/b", "c"; "c" -> "", "c"; "/c" -> "/", "c".
void SplitParent(const std::string& path, std::string* parent, std::string* name) {
  size_t slash = path.find_last_of('/');
  *parent = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  *name = slash == std::string::npos ? path : path.substr(slash + 1);
}

// True for the errors that say an entry (or a directory on its path) has
// gone or is no longer what it was: such entries are skipped by copies.
bool Vanished(int error) { return error == ENOENT || error == ENOTDIR || error == ELOOP; }

// Copies the entry from_name of from_dir to to_name of to_dir (see
// CopyEntriesAt). A directory made or found there is returned in *made_dir.
Status CopyOne(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
               const OptionalOwner& owner, const std::string& from, const std::string& to,
               UniqueFd* made_dir) {
  struct stat st;
  if (fstatat(from_dir, from_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Vanished(errno) ? Status::Ok() : ErrnoStatus("cannot stat", from);
  }
  switch (TypeOf(st.st_mode)) {
    case EntryType::kFile: {
      // O_NONBLOCK: a fifo swapped in after the stat must not hang the copy.
      int in = openat(from_dir, from_name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (in < 0) return Vanished(errno) ? Status::Ok() : ErrnoStatus("cannot open", from);
      UniqueFd in_fd(in);
      if (fstat(in, &st) != 0) return ErrnoStatus("cannot stat", from);
      if (!S_ISREG(st.st_mode)) return Status::Ok();  // Replaced by a fifo or a device.
      StatusOr<UniqueFd> out = CreateFileAt(to_dir, to_name, st.st_mode, owner, to);
      if (!out.ok()) return out.status();
      Status s = CopyFileData(in, out->get(), st.st_size, from, to);
      if (!s.ok()) return s;
      SetModeAndTimes(out->get(), st.st_mode, owner.has_value(), st.st_atim, st.st_mtim);
      if (close(out->Release()) != 0) return ErrnoStatus("cannot write", to);
      return Status::Ok();
    }
    case EntryType::kDirectory: {
      // Owner rwx always, so the copy's own content can be written. An
      // existing directory is merged into as it is.
      mode_t mode = (st.st_mode & 07777) | S_IRWXU;
      StatusOr<UniqueFd> dir = MakeDirAt(to_dir, to_name, mode, owner, to);
      if (!dir.ok()) return dir.status();
      if (made_dir != nullptr) *made_dir = std::move(*dir);
      return Status::Ok();
    }
    case EntryType::kSymlink: {
      StatusOr<std::string> target = ReadLinkAt(from_dir, from_name, from);
      if (!target.ok()) return Vanished(errno) ? Status::Ok() : target.status();
      return SymlinkAt(to_dir, to_name, *target, owner, to);
    }
    case EntryType::kOther:
      return Status::Ok();  // Sockets, fifos, devices: not project content.
  }
  return Status::Ok();
}

}  // namespace

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out.append(b);
  return out;
}

mode_t CurrentUmask() {
  static const mode_t mask = [] {
    std::FILE* f = std::fopen("/proc/self/status", "re");
    unsigned value = 022;
    if (f != nullptr) {
      char line[256];
      while (std::fgets(line, sizeof(line), f) != nullptr) {
        if (std::sscanf(line, "Umask: %o", &value) == 1) break;
      }
      std::fclose(f);
    }
    return static_cast<mode_t>(value);
  }();
  return mask;
}

StatusOr<std::vector<TreeEntry>> ListTree(const std::string& root,
                                          const std::vector<std::string>& skip_top_level) {
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot list", root);
  UniqueFd root_fd(fd);
  return ListTreeAt(fd, root, skip_top_level);
}

StatusOr<std::vector<TreeEntry>> ListTreeAt(int root_fd, const std::string& root_path,
                                            const std::vector<std::string>& skip_top_level) {
  int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot list", root_path);
  std::vector<TreeEntry> entries;
  Status s = ListInto(fd, root_path, "", 0, skip_top_level, &entries);
  if (!s.ok()) return s;
  return entries;
}

StatusOr<std::vector<std::string>> ListNames(const std::string& dir_path) {
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return ErrnoStatus("cannot list", dir_path);
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

Status MakeDirs(const std::string& path) {
  if (path.empty()) return Status::Ok();
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) {
    if (IsDirectory(path)) return Status::Ok();
    errno = ENOTDIR;
    return ErrnoStatus("cannot create directory", path);
  }
  if (errno != ENOENT) return ErrnoStatus("cannot create directory", path);
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return ErrnoStatus("cannot create directory", path);
  Status parent = MakeDirs(path.substr(0, slash));
  if (!parent.ok()) return parent;
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory", path);
  }
  return Status::Ok();
}

Status MakeDirWithMode(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) != 0 || chmod(path.c_str(), mode) != 0) {
    return ErrnoStatus("cannot make", path);
  }
  return Status::Ok();
}

Status CopyEntry(const std::string& from, const std::string& to) {
  std::string from_parent, from_name, to_parent, to_name;
  SplitParent(from, &from_parent, &from_name);
  SplitParent(to, &to_parent, &to_name);
  int from_dir =
      open(from_parent.empty() ? "." : from_parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (from_dir < 0) return ErrnoStatus("cannot open", from_parent);
  UniqueFd from_fd(from_dir);
  if (!to_parent.empty()) {
    Status s = MakeDirs(to_parent);
    if (!s.ok()) return s;
  }
  int to_dir = open(to_parent.empty() ? "." : to_parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (to_dir < 0) return ErrnoStatus("cannot open", to_parent);
  UniqueFd to_fd(to_dir);
  struct stat st;
  if (fstatat(from_dir, from_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("cannot stat", from);
  }
  return CopyOne(from_dir, from_name, to_dir, to_name, {}, from, to, nullptr);
}

Status CopyEntriesAt(int from_fd, const std::string& from_path,
                     const std::vector<TreeEntry>& entries, int to_fd, const std::string& to_path,
                     const OptionalOwner& owner) {
  DirWalker from = DirWalker::Reading(from_fd, from_path);
  DirWalker to = DirWalker::Writing(to_fd, to_path, owner);
  std::string parent, name;
  for (const TreeEntry& e : entries) {
    std::string from_entry = JoinPath(from_path, e.path);
    if (!IsPlainRelativePath(e.path)) {
      return Status::Error("cannot copy " + from_entry + ": not a plain relative path");
    }
    SplitParent(e.path, &parent, &name);
    StatusOr<int> from_dir = from.Enter(parent);
    if (!from_dir.ok()) {
      if (Vanished(errno)) continue;  // Its directory has gone, or is one no more.
      return from_dir.status();
    }
    StatusOr<int> to_dir = to.Enter(parent);
    if (!to_dir.ok()) return to_dir.status();
    UniqueFd made;
    Status s = CopyOne(*from_dir, name, *to_dir, name, owner, from_entry, JoinPath(to_path, e.path),
                       &made);
    if (!s.ok()) return s;
    if (made.valid()) to.Adopt(e.path, std::move(made));
  }
  return Status::Ok();
}

Status CopyEntries(const std::string& from_root, const std::vector<TreeEntry>& entries,
                   const std::string& to_root, const OptionalOwner& owner) {
  StatusOr<UniqueFd> from = OpenDirNoFollow(from_root);
  if (!from.ok()) return from.status();
  StatusOr<UniqueFd> to = MakeDirNoFollow(to_root, owner);
  if (!to.ok()) return to.status();
  return CopyEntriesAt(from->get(), from_root, entries, to->get(), to_root, owner);
}

Status CopyTree(const std::string& from_root, const std::string& to_root,
                const std::vector<std::string>& skip_top_level, const OptionalOwner& owner) {
  StatusOr<UniqueFd> from = OpenDirNoFollow(from_root);
  if (!from.ok()) return from.status();
  StatusOr<std::vector<TreeEntry>> entries = ListTreeAt(from->get(), from_root, skip_top_level);
  if (!entries.ok()) return entries.status();
  StatusOr<UniqueFd> to = MakeDirNoFollow(to_root, owner);
  if (!to.ok()) return to.status();
  return CopyEntriesAt(from->get(), from_root, *entries, to->get(), to_root, owner);
}

namespace {

// Removing a tree holds a descriptor (and a stack frame) per level. A job
// can make its tree as deep as it likes (tens of thousands of levels would
// exhaust the stack), so below this depth a directory is not entered but
// moved up, by a rename within the tree, to the top of what is being
// removed, and removed from there afterwards: descriptors and recursion stay
// bounded however deep the tree.
constexpr size_t kMaxRemoveDepth = 64;

// The directory whose contents are being removed, and the subtrees moved
// into it to be removed later.
struct RemoveTop {
  int fd = -1;
  std::string path;
  std::vector<std::string> moved;
  uint64_t counter = 0;
};

Status RemoveContents(int dir_fd, const std::string& path, size_t depth, RemoveTop* top);
Status RemoveAllIn(int dir_fd, const std::string& path);

// Removes the entry name of dir_fd (a directory with its contents). depth:
// that of the entry below top's directory; top null: the entry is a top.
Status RemoveChild(int dir_fd, const std::string& name, bool is_dir, const std::string& path,
                   size_t depth = 0, RemoveTop* top = nullptr) {
  if (is_dir && top != nullptr && depth >= kMaxRemoveDepth) {
    while (true) {
      std::string moved = ".slipway-removing-" + std::to_string(top->counter++);
      if (renameat2(dir_fd, name.c_str(), top->fd, moved.c_str(), RENAME_NOREPLACE) == 0) {
        top->moved.push_back(std::move(moved));
        return Status::Ok();
      }
      if (errno != EEXIST) break;  // Removed in place below, as deep as that goes.
    }
  }
  if (is_dir) {
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
      struct stat st;
      if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        // AT_SYMLINK_NOFOLLOW: had a link replaced it since, it is refused.
        fchmodat(dir_fd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, AT_SYMLINK_NOFOLLOW);
      }
      fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
      is_dir = false;  // Replaced by a file or a symlink since: unlinked as one.
    } else if (fd < 0) {
      return ErrnoStatus("cannot list", path);
    } else {
      Status s = top != nullptr ? RemoveContents(fd, path, depth, top) : RemoveAllIn(fd, path);
      if (!s.ok()) return s;
    }
  }
  if (unlinkat(dir_fd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", path);
  }
  return Status::Ok();
}

// Removes everything inside the directory open as dir_fd (closed here;
// path names it in errors), which lies depth levels below top's directory.
// Works on descriptors and readdir's types, so an entry costs one unlinkat
// and no path walk. A directory the owner cannot list, enter or change (a
// job may leave such behind) is made owner-rwx first: one fstat per
// directory, and a chmod only where needed.
Status RemoveContents(int dir_fd, const std::string& path, size_t depth, RemoveTop* top) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    Status s = ErrnoStatus("cannot list", path);
    close(dir_fd);
    return s;
  }
  std::vector<std::pair<std::string, bool>> children;  // name, is a directory
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    children.emplace_back(std::string(name), is_dir);
  }
  struct stat self;
  if (fstat(dir_fd, &self) == 0 && (self.st_mode & S_IRWXU) != S_IRWXU) {
    fchmod(dir_fd, (self.st_mode & 07777) | S_IRWXU);
  }
  Status status;
  for (const auto& [name, is_dir] : children) {
    status = RemoveChild(dir_fd, name, is_dir, JoinPath(path, name), depth + 1, top);
    if (!status.ok()) break;
  }
  closedir(dir);  // Closes dir_fd too.
  return status;
}

// RemoveContents for a top: the subtrees moved up into it are removed after
// its own entries, each as a child of it (and may move deeper parts up).
Status RemoveAllIn(int dir_fd, const std::string& path) {
  RemoveTop top;
  top.fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (top.fd < 0) {
    Status s = ErrnoStatus("cannot list", path);
    close(dir_fd);
    return s;
  }
  UniqueFd top_fd(top.fd);
  top.path = path;
  Status s = RemoveContents(dir_fd, path, 0, &top);
  while (s.ok() && !top.moved.empty()) {
    std::string name = std::move(top.moved.back());
    top.moved.pop_back();
    s = RemoveChild(top.fd, name, true, JoinPath(path, name), 1, &top);
  }
  return s;
}

}  // namespace

Status RemoveAt(int dir_fd, const std::string& name, const std::string& path) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("cannot stat", path);
  }
  return RemoveChild(dir_fd, name, S_ISDIR(st.st_mode), path);
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("cannot stat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("cannot remove", path);
    return Status::Ok();
  }
  // A job may leave read-only directories behind; make them writable first.
  if ((st.st_mode & S_IRWXU) != S_IRWXU) {
    fchmodat(AT_FDCWD, path.c_str(), (st.st_mode & 07777) | S_IRWXU, AT_SYMLINK_NOFOLLOW);
  }
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot list", path);
  Status s = RemoveAllIn(fd, path);
  if (!s.ok()) return s;
  if (rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("cannot remove", path);
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoStatus("cannot read", path);
      close(fd);
      return s;
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      close(fd);
      return Status::Error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  close(fd);
  return content;
}

Status WriteFile(const std::string& path, std::string_view content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoStatus("cannot write", path);
      close(fd);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return ErrnoStatus("cannot write", path);
  return Status::Ok();
}

Status ReplaceFile(const std::string& dir, const std::string& name, std::string_view content) {
  UniqueFd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoStatus("cannot open", dir);
  return WriteFileAt(dir_fd.get(), name, content, std::nullopt, JoinPath(dir, name));
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace slipway
