#include "exec/tree_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace slipway {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::Error(what + " " + path + ": " + std::strerror(errno));
}

// Closes the descriptors of the directories being written into.
class DirStack {
 public:
  ~DirStack() {
    for (int fd : fds_) close(fd);
  }
  void Push(int fd) { fds_.push_back(fd); }
  // Keeps the first n directories open.
  void Truncate(size_t n) {
    while (fds_.size() > n) {
      close(fds_.back());
      fds_.pop_back();
    }
  }
  size_t size() const { return fds_.size(); }
  int top() const { return fds_.back(); }

 private:
  std::vector<int> fds_;
};

}  // namespace

StatusOr<TreeImage> TreeImage::Read(const std::string& root,
                                    const std::vector<TreeEntry>& entries) {
  TreeImage image;
  image.root_ = root;
  image.items_.reserve(entries.size());
  for (const TreeEntry& e : entries) {
    Item item;
    item.path = e.path;
    size_t slash = e.path.find_last_of('/');
    item.name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    item.depth = static_cast<size_t>(std::count(e.path.begin(), e.path.end(), '/'));
    std::string from = JoinPath(root, e.path);
    struct stat st;
    if (lstat(from.c_str(), &st) != 0) return ErrnoStatus("cannot stat", from);
    item.mode = st.st_mode & 07777;
    item.atime = st.st_atim;
    item.mtime = st.st_mtim;
    item.size = st.st_size;
    if (S_ISREG(st.st_mode)) {
      item.type = EntryType::kFile;
      size_t size = static_cast<size_t>(st.st_size);
      if (size <= kMaxCachedFileBytes && image.cached_bytes_ + size <= kMaxCachedBytes) {
        StatusOr<std::string> data = ReadFile(from, kMaxCachedFileBytes);
        if (data.ok()) {
          item.data = *std::move(data);
          item.cached = true;
          image.cached_bytes_ += item.data.size();
        }
      }
    } else if (S_ISDIR(st.st_mode)) {
      item.type = EntryType::kDirectory;
    } else if (S_ISLNK(st.st_mode)) {
      item.type = EntryType::kSymlink;
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = readlink(from.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoStatus("cannot read link", from);
      target.resize(static_cast<size_t>(n));
      item.data = std::move(target);
    } else {
      continue;  // Sockets, fifos, devices: not project content.
    }
    image.items_.push_back(std::move(item));
  }
  return image;
}

Status TreeImage::WriteFile(int dir_fd, const Item& item, const std::string& dest) const {
  if (!item.cached) return CopyEntry(JoinPath(root_, item.path), JoinPath(dest, item.path));
  int fd = openat(dir_fd, item.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, item.mode);
  if (fd < 0) return ErrnoStatus("cannot create", JoinPath(dest, item.path));
  size_t written = 0;
  while (written < item.data.size()) {
    ssize_t n = write(fd, item.data.data() + written, item.data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoStatus("cannot write", JoinPath(dest, item.path));
      close(fd);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if ((item.mode & CurrentUmask()) != 0) fchmod(fd, item.mode);
  timespec times[2] = {item.atime, item.mtime};
  futimens(fd, times);
  if (close(fd) != 0) return ErrnoStatus("cannot write", JoinPath(dest, item.path));
  return Status::Ok();
}

Status TreeImage::WriteTo(const std::string& dest) const {
  if (mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory", dest);
  }
  DirStack dirs;  // dirs[d]: the directory holding the entries of depth d.
  int root_fd = open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return ErrnoStatus("cannot open", dest);
  dirs.Push(root_fd);
  for (const Item& item : items_) {
    // Entries come parents first, so the parent of an entry of depth d is
    // the last directory opened at depth d - 1.
    dirs.Truncate(item.depth + 1);
    if (dirs.size() != item.depth + 1) {
      return Status::Error("cannot copy " + JoinPath(root_, item.path) + ": parent not listed");
    }
    int parent = dirs.top();
    switch (item.type) {
      case EntryType::kDirectory: {
        mode_t mode = item.mode | S_IRWXU;  // The copy's own content must be writable.
        if (mkdirat(parent, item.name.c_str(), mode) != 0 && errno != EEXIST) {
          return ErrnoStatus("cannot create directory", JoinPath(dest, item.path));
        }
        if ((mode & CurrentUmask()) != 0) fchmodat(parent, item.name.c_str(), mode, 0);
        int fd = openat(parent, item.name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return ErrnoStatus("cannot open", JoinPath(dest, item.path));
        dirs.Push(fd);
        break;
      }
      case EntryType::kFile: {
        Status s = WriteFile(parent, item, dest);
        if (!s.ok()) return s;
        break;
      }
      case EntryType::kSymlink:
        if (symlinkat(item.data.c_str(), parent, item.name.c_str()) != 0) {
          return ErrnoStatus("cannot create link", JoinPath(dest, item.path));
        }
        break;
      case EntryType::kOther:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace slipway
