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

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::Error(what + " " + path + ": " + std::strerror(errno));
}

EntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDirectory;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  return EntryType::kOther;
}

Status ListInto(const std::string& root, const std::string& rel,
                const std::vector<std::string>& skip, std::vector<TreeEntry>* out) {
  std::string dir_path = rel.empty() ? root : JoinPath(root, rel);
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return ErrnoStatus("cannot list", dir_path);
  std::vector<std::pair<std::string, EntryType>> children;
  int dir_fd = dirfd(dir);
  errno = 0;
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
          closedir(dir);
          return ErrnoStatus("cannot stat", JoinPath(dir_path, name));
        }
        type = TypeOf(st.st_mode);
      }
    }
    children.emplace_back(std::move(name), type);
  }
  closedir(dir);
  std::sort(children.begin(), children.end());
  for (auto& [name, type] : children) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    out->push_back({child, type});
    if (type == EntryType::kDirectory) {
      Status s = ListInto(root, child, skip, out);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

// Creates `to` with create(), which returns -1/errno like open(). Copies are
// made mostly into fresh trees whose parents exist, so the common case costs
// one call; an existing entry is replaced (never written through: it may be a
// hard link or symlink) and missing parents are created.
template <typename CreateFn>
int CreateReplacing(const std::string& to, const CreateFn& create) {
  int rc = create();
  if (rc < 0 && errno == EEXIST) {
    struct stat existing;
    if (lstat(to.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) {
      (void)RemoveTree(to);
    } else {
      unlink(to.c_str());
    }
    rc = create();
  }
  if (rc < 0 && errno == ENOENT) {
    size_t slash = to.find_last_of('/');
    if (slash != std::string::npos && slash > 0 && MakeDirs(to.substr(0, slash)).ok()) {
      rc = create();
    }
  }
  return rc;
}

Status CopyFileContents(const std::string& from, const std::string& to, const struct stat& st) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("cannot open", from);
  int out = CreateReplacing(to, [&] {
    return open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
  });
  if (out < 0) {
    Status s = ErrnoStatus("cannot create", to);
    close(in);
    return s;
  }
  Status status;
  off_t remaining = st.st_size;
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
        ssize_t written = 0;
        while (written < n) {
          ssize_t w = write(out, buffer + written, static_cast<size_t>(n - written));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) break;
          written += w;
        }
        if (written < n) {
          status = ErrnoStatus("cannot write", to);
          break;
        }
      }
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoStatus("cannot copy", from);
      break;
    }
    if (n == 0) break;
    remaining -= std::min<off_t>(remaining, n);
  }
  if (status.ok()) {
    if ((st.st_mode & 07777 & CurrentUmask()) != 0) fchmod(out, st.st_mode & 07777);
    timespec times[2] = {st.st_atim, st.st_mtim};
    futimens(out, times);
  }
  close(in);
  if (close(out) != 0 && status.ok()) status = ErrnoStatus("cannot write", to);
  return status;
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
  std::vector<TreeEntry> entries;
  Status s = ListInto(root, "", skip_top_level, &entries);
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

Status CopyEntry(const std::string& from, const std::string& to) {
  struct stat st;
  if (lstat(from.c_str(), &st) != 0) return ErrnoStatus("cannot stat", from);
  switch (TypeOf(st.st_mode)) {
    case EntryType::kFile:
      return CopyFileContents(from, to, st);
    case EntryType::kDirectory: {
      // Owner rwx always, so the copy's own content can be written.
      mode_t mode = (st.st_mode & 07777) | S_IRWXU;
      int rc = mkdir(to.c_str(), mode);
      if (rc != 0 && errno == EEXIST && IsDirectory(to)) return Status::Ok();  // Merge.
      if (rc != 0) rc = CreateReplacing(to, [&] { return mkdir(to.c_str(), mode); });
      if (rc != 0) return ErrnoStatus("cannot create directory", to);
      if ((mode & CurrentUmask()) != 0) chmod(to.c_str(), mode);
      return Status::Ok();
    }
    case EntryType::kSymlink: {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = readlink(from.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoStatus("cannot read link", from);
      target.resize(static_cast<size_t>(n));
      if (CreateReplacing(to, [&] { return symlink(target.c_str(), to.c_str()); }) != 0) {
        return ErrnoStatus("cannot create link", to);
      }
      return Status::Ok();
    }
    case EntryType::kOther:
      return Status::Ok();  // Sockets, fifos, devices: not project content.
  }
  return Status::Ok();
}

Status CopyEntries(const std::string& from_root, const std::vector<TreeEntry>& entries,
                   const std::string& to_root) {
  Status s = MakeDirs(to_root);
  if (!s.ok()) return s;
  for (const TreeEntry& e : entries) {
    s = CopyEntry(JoinPath(from_root, e.path), JoinPath(to_root, e.path));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status CopyTree(const std::string& from_root, const std::string& to_root,
                const std::vector<std::string>& skip_top_level) {
  StatusOr<std::vector<TreeEntry>> entries = ListTree(from_root, skip_top_level);
  if (!entries.ok()) return entries.status();
  return CopyEntries(from_root, *entries, to_root);
}

namespace {

Status RemoveContents(int dir_fd, const std::string& path);

// Removes the entry name of dir_fd (a directory with its contents).
Status RemoveChild(int dir_fd, const std::string& name, bool is_dir, const std::string& path) {
  if (is_dir) {
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
      struct stat st;
      if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        fchmodat(dir_fd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, 0);
      }
      fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return ErrnoStatus("cannot list", path);
    Status s = RemoveContents(fd, path);
    if (!s.ok()) return s;
  }
  if (unlinkat(dir_fd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", path);
  }
  return Status::Ok();
}

// Removes everything inside the directory open as dir_fd (path names it in
// errors). Works on descriptors and readdir's types, so an entry costs one
// unlinkat and no path walk. A directory the owner cannot list, enter or
// change (a job may leave such behind) is made owner-rwx first: one fstat per
// directory, and a chmod only where needed.
Status RemoveContents(int dir_fd, const std::string& path) {
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
    status = RemoveChild(dir_fd, name, is_dir, JoinPath(path, name));
    if (!status.ok()) break;
  }
  closedir(dir);  // Closes dir_fd too.
  return status;
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
  if ((st.st_mode & S_IRWXU) != S_IRWXU) chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot list", path);
  Status s = RemoveContents(fd, path);
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

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace slipway
