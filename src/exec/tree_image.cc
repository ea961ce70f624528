#include "exec/tree_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <dirent.h>
#include <time.h>
#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

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

// A 64-bit hash of bytes: tells contents apart, not meant to resist attack.
uint64_t Hash(std::string_view bytes) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ bytes.size();
  auto mix = [&h](uint64_t word) {
    h = (h ^ word) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  };
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    mix(word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  mix(tail);
  return h;
}

bool SameTime(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// True if st belongs to owner, or no owner is wanted.
bool Owned(const struct stat& st, const OptionalOwner& owner) {
  return !owner || (st.st_uid == owner->uid && st.st_gid == owner->gid);
}

}  // namespace

StatusOr<TreeImage> TreeImage::Read(const std::string& root, const std::vector<TreeEntry>& entries,
                                    const TreeImage* written_from) {
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
    bool known = false;  // Contents (and their hash) taken from written_from.
    item.mode = st.st_mode & 07777;
    item.atime = st.st_atim;
    item.mtime = st.st_mtim;
    item.size = st.st_size;
    if (S_ISREG(st.st_mode)) {
      item.type = EntryType::kFile;
      size_t size = static_cast<size_t>(st.st_size);
      const Item* same = written_from != nullptr ? written_from->Find(e.path) : nullptr;
      if (same != nullptr && same->cached && same->size == item.size &&
          SameTime(same->mtime, item.mtime) && image.cached_bytes_ + size <= kMaxCachedBytes) {
        item.data = same->data;
        item.cached = true;
        item.content = same->content;
        image.cached_bytes_ += item.data.size();
        known = true;
      } else if (size <= kMaxCachedFileBytes && image.cached_bytes_ + size <= kMaxCachedBytes) {
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
    if (item.type == EntryType::kFile && !known) {
      if (item.cached) {
        item.content = Hash(item.data);
      } else {
        int64_t stat_key[3] = {static_cast<int64_t>(item.size), item.mtime.tv_sec,
                               item.mtime.tv_nsec};
        item.content =
            Hash(std::string_view(reinterpret_cast<const char*>(stat_key), sizeof(stat_key)));
      }
    }
    image.index_.emplace(item.path, image.items_.size());
    image.items_.push_back(std::move(item));
  }
  return image;
}

Status TreeImage::WriteFile(int dir_fd, const Item& item, const std::string& dest,
                            const OptionalOwner& owner, struct stat* written) const {
  std::string path = JoinPath(dest, item.path);
  UniqueFd in;
  if (!item.cached) {
    std::string from = JoinPath(root_, item.path);
    in = UniqueFd(open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return ErrnoStatus("cannot open", from);
  }
  StatusOr<UniqueFd> out = CreateFileAt(dir_fd, item.name, item.mode, owner, path);
  if (!out.ok()) return out.status();
  Status s = item.cached
                 ? WriteAll(out->get(), item.data, path)
                 : CopyFileData(in.get(), out->get(), item.size, JoinPath(root_, item.path), path);
  if (!s.ok()) return s;
  SetModeAndTimes(out->get(), item.mode, owner.has_value(), item.atime, item.mtime);
  if (fstat(out->get(), written) != 0) return ErrnoStatus("cannot stat", path);
  if (close(out->Release()) != 0) return ErrnoStatus("cannot write", path);
  return Status::Ok();
}

namespace {

// How long after a change a file's change time may still equal the one it
// had before the change: file systems take times from a coarse clock (one
// tick), and some keep whole seconds only (their times have no nanoseconds).
bool MayHideChanges(const timespec& ctime, const timespec& written_at) {
  static const int64_t margin_ns = [] {
    timespec res{};
    clock_getres(CLOCK_REALTIME_COARSE, &res);
    return std::max<int64_t>(2 * (res.tv_sec * 1000000000LL + res.tv_nsec), 10000000);
  }();
  int64_t margin = ctime.tv_nsec == 0 ? 2000000000LL : margin_ns;
  int64_t at = ctime.tv_sec * 1000000000LL + ctime.tv_nsec;
  int64_t until = written_at.tv_sec * 1000000000LL + written_at.tv_nsec;
  return at + margin >= until;
}

bool ContentEquals(int dir_fd, const std::string& name, const std::string& expected) {
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  std::string got(expected.size() + 1, '\0');
  size_t have = 0;
  while (have < got.size()) {
    ssize_t n = read(fd, got.data() + have, got.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  close(fd);
  return have == expected.size() && got.compare(0, have, expected) == 0;
}

// Reads from fd until buffer is full or the file ends; the bytes read, -1
// on an error.
ssize_t ReadFull(int fd, std::vector<char>* buffer) {
  size_t have = 0;
  while (have < buffer->size()) {
    ssize_t n = read(fd, buffer->data() + have, buffer->size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(have);
}

// True if the file name in dir_fd holds the bytes of the file from: how a
// file too large to cache is checked (else it would be written again by
// every write that follows the one that wrote it within MayHideChanges).
bool SameContentAs(int dir_fd, const std::string& name, const std::string& from) {
  UniqueFd ours(openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  UniqueFd source(open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!ours.valid() || !source.valid()) return false;
  std::vector<char> a(size_t{64} << 10), b(a.size());
  for (;;) {
    ssize_t n = ReadFull(ours.get(), &a);
    if (n < 0 || n != ReadFull(source.get(), &b)) return false;
    if (n == 0) return true;
    if (std::memcmp(a.data(), b.data(), static_cast<size_t>(n)) != 0) return false;
  }
}

}  // namespace

bool TreeImage::Unchanged(int dir_fd, const Item& item, const struct stat& st,
                          const Stamps::File& stamp, const timespec& written_at) const {
  if (!S_ISREG(st.st_mode) || stamp.content != item.content || stamp.ino != st.st_ino ||
      !SameTime(stamp.ctime, st.st_ctim) || st.st_size != item.size ||
      !SameTime(st.st_mtim, item.mtime) || (st.st_mode & 07777) != item.mode) {
    return false;
  }
  if (!MayHideChanges(stamp.ctime, written_at)) return true;
  return item.cached ? ContentEquals(dir_fd, item.name, item.data)
                     : SameContentAs(dir_fd, item.name, JoinPath(root_, item.path));
}

Status TreeImage::WriteTo(const std::string& dest, Stamps* stamps,
                          const OptionalOwner& owner) const {
  Status s = Write(dest, stamps, owner);
  if (!s.ok() && stamps != nullptr) stamps->files.clear();
  return s;
}

Status TreeImage::Write(const std::string& dest, Stamps* stamps, const OptionalOwner& owner) const {
  // The stamps of the last write into dest; stamps gets this write's.
  std::unordered_map<std::string, Stamps::File> previous;
  timespec previous_at{};
  if (stamps != nullptr) {
    previous = std::move(stamps->files);
    previous_at = stamps->written_at;
    stamps->files.clear();
  }

  // A directory made here is known empty: its entries need no checks.
  bool dest_made = mkdir(dest.c_str(), 0755) == 0;
  if (!dest_made && errno != EEXIST) return ErrnoStatus("cannot create directory", dest);
  DirStack dirs;            // dirs[d]: the directory holding the entries of depth d.
  std::vector<bool> fresh;  // fresh[d]: dirs[d] was made by this write.
  // Not through a symlink: a job may have replaced its workspace with one.
  int root_fd = open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0) return ErrnoStatus("cannot open", dest);
  dirs.Push(root_fd);
  if (owner) {
    struct stat root_st;
    if (fstat(root_fd, &root_st) != 0) return ErrnoStatus("cannot stat", dest);
    if (!Owned(root_st, owner) && fchown(root_fd, owner->uid, owner->gid) != 0) {
      return ErrnoStatus("cannot chown", dest);
    }
  }
  fresh.push_back(dest_made);
  if (!dest_made) {
    Status s = RemoveExtras(root_fd, "", dest);
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& item = items_[i];
    // Entries come parents first, so the parent of an entry of depth d is
    // the last directory opened at depth d - 1.
    dirs.Truncate(item.depth + 1);
    fresh.resize(dirs.size());
    if (dirs.size() != item.depth + 1) {
      return Status::Error("cannot copy " + JoinPath(root_, item.path) + ": parent not listed");
    }
    int parent = dirs.top();
    std::string path = JoinPath(dest, item.path);
    struct stat st;
    bool exists =
        !fresh.back() && fstatat(parent, item.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool keep = false;
    const Stamps::File* stamp = nullptr;  // The last write's, for a file.
    if (exists) {
      switch (item.type) {
        case EntryType::kDirectory:
          keep = S_ISDIR(st.st_mode);
          break;
        case EntryType::kFile:
          if (auto it = previous.find(item.path); it != previous.end()) stamp = &it->second;
          keep = stamp != nullptr && Owned(st, owner) &&
                 Unchanged(parent, item, st, *stamp, previous_at);
          break;
        case EntryType::kSymlink:
          if (S_ISLNK(st.st_mode)) {
            StatusOr<std::string> target = ReadLinkAt(parent, item.name, path);
            keep = target.ok() && *target == item.data;
          }
          break;
        case EntryType::kOther:
          keep = true;
          break;
      }
      if (!keep) {
        Status s = RemoveAt(parent, item.name, path);
        if (!s.ok()) return s;
      }
    }
    switch (item.type) {
      case EntryType::kDirectory: {
        mode_t mode = item.mode | S_IRWXU;  // The copy's own content must be writable.
        UniqueFd fd;
        if (keep) {
          // Changed through the descriptor: a link swapped in is not followed.
          fd = UniqueFd(
              openat(parent, item.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!fd.valid()) return ErrnoStatus("cannot open", path);
          if (!Owned(st, owner) && fchown(fd.get(), owner->uid, owner->gid) != 0) {
            return ErrnoStatus("cannot chown", path);
          }
          if ((st.st_mode & 07777) != mode) fchmod(fd.get(), mode);
        } else {
          StatusOr<UniqueFd> made = MakeDirAt(parent, item.name, mode, owner, path);
          if (!made.ok()) return made.status();
          fd = std::move(*made);
        }
        dirs.Push(fd.Release());
        fresh.push_back(!keep);
        if (keep) {
          Status s = RemoveExtras(dirs.top(), item.path, dest);
          if (!s.ok()) return s;
        }
        break;
      }
      case EntryType::kFile: {
        if (keep) {
          stamps->files.emplace(item.path, *stamp);
          break;
        }
        struct stat written;
        Status s = WriteFile(parent, item, dest, owner, &written);
        if (!s.ok()) return s;
        if (stamps != nullptr) {
          stamps->files[item.path] = {written.st_ino, written.st_ctim, item.content};
        }
        break;
      }
      case EntryType::kSymlink:
        if (!keep) {
          Status s = SymlinkAt(parent, item.name, item.data, owner, path);
          if (!s.ok()) return s;
        } else if (!Owned(st, owner) && fchownat(parent, item.name.c_str(), owner->uid, owner->gid,
                                                 AT_SYMLINK_NOFOLLOW) != 0) {
          return ErrnoStatus("cannot chown", path);
        }
        break;
      case EntryType::kOther:
        break;
    }
  }
  // The machine's clock, not a slipway::Clock: written_at is compared with
  // the files' mtimes, which the kernel stamps in real time.
  if (stamps != nullptr) clock_gettime(CLOCK_REALTIME, &stamps->written_at);
  return Status::Ok();
}

const TreeImage::Item* TreeImage::Find(const std::string& path) const {
  auto it = index_.find(path);
  return it == index_.end() ? nullptr : &items_[it->second];
}

Status TreeImage::RemoveExtras(int dir_fd, const std::string& rel, const std::string& dest) const {
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);  // dup() would drop close-on-exec.
  DIR* dir = fd < 0 ? nullptr : fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) close(fd);
    return ErrnoStatus("cannot list", JoinPath(dest, rel));
  }
  std::vector<std::string> extras;
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
    if (Find(child) == nullptr) extras.emplace_back(name);
  }
  closedir(dir);
  for (const std::string& name : extras) {
    std::string rel_child = rel.empty() ? name : rel + "/" + name;
    Status s = RemoveAt(dir_fd, name, JoinPath(dest, rel_child));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status TreeImage::Stamps::Save(const std::string& path) const {
  // "slipway-stamps 1 <sec> <nsec>\n", then per file
  // "<ino> <ctime sec> <ctime nsec> <content>\t<path>\0".
  std::string out = "slipway-stamps 1 " + std::to_string(written_at.tv_sec) + " " +
                    std::to_string(written_at.tv_nsec) + "\n";
  for (const auto& [file, stamp] : files) {
    out += std::to_string(stamp.ino) + " " + std::to_string(stamp.ctime.tv_sec) + " " +
           std::to_string(stamp.ctime.tv_nsec) + " " + std::to_string(stamp.content) + "\t" + file +
           '\0';
  }
  // Beside a workspace, where a job may have left a symlink by that name:
  // created afresh, never written through one (rename replaces a link too).
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string tmp = path + ".tmp";
  Status s = ReplaceFile(dir, tmp.substr(slash == std::string::npos ? 0 : slash + 1), out);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus("cannot rename", tmp);
  return s;
}

TreeImage::Stamps TreeImage::Stamps::Load(const std::string& path) {
  Stamps stamps;
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return stamps;
  size_t newline = text->find('\n');
  long long sec = 0, nsec = 0;
  if (newline == std::string::npos || std::sscanf(text->substr(0, newline).c_str(),
                                                  "slipway-stamps 1 %lld %lld", &sec, &nsec) != 2) {
    return stamps;
  }
  stamps.written_at = {static_cast<time_t>(sec), static_cast<long>(nsec)};
  size_t at = newline + 1;
  while (at < text->size()) {
    size_t end = text->find('\0', at);
    if (end == std::string::npos) break;  // A record cut short: left out.
    std::string record = text->substr(at, end - at);
    at = end + 1;
    size_t tab = record.find('\t');
    unsigned long long ino = 0, content = 0;
    long long csec = 0, cnsec = 0;
    if (tab == std::string::npos || tab + 1 == record.size() ||
        std::sscanf(record.substr(0, tab).c_str(), "%llu %lld %lld %llu", &ino, &csec, &cnsec,
                    &content) != 4) {
      return Stamps();  // Not a file this version wrote: trust none of it.
    }
    stamps.files[record.substr(tab + 1)] = {
        static_cast<ino_t>(ino), {static_cast<time_t>(csec), static_cast<long>(cnsec)}, content};
  }
  return stamps;
}

}  // namespace slipway
