#include "image/layer_unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "image/tar_reader.h"

namespace slipway {
namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Removes from the directory dir_fd (the rootfs path dir) every entry that
// this layer did not write, and below the directories it did write, the
// same: what an opaque directory hides.
Status RemoveLowerEntries(int dir_fd, const std::string& dir, const std::string& shown,
                          const std::unordered_set<std::string>& written, int depth) {
  if (depth > 256) return Status::Error("directories nested too deep under " + shown);
  int listing = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (listing < 0) return Errno("list", shown);
  DIR* d = fdopendir(listing);
  if (d == nullptr) {
    close(listing);
    return Errno("list", shown);
  }
  rewinddir(d);
  std::vector<std::pair<std::string, bool>> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name, e->d_type == DT_DIR);
  }
  closedir(d);
  for (const auto& [name, is_dir] : names) {
    std::string path = Join(dir, name);
    if (!written.count(path)) {
      Status removed = RemoveAt(dir_fd, name, shown + "/" + name);
      if (!removed.ok()) return removed;
    } else if (is_dir) {
      int child = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) return Errno("open", shown + "/" + name);
      UniqueFd owned(child);
      Status cleared = RemoveLowerEntries(child, path, shown + "/" + name, written, depth + 1);
      if (!cleared.ok()) return cleared;
    }
  }
  return Status::Ok();
}

// Removes name in dir_fd if present (a directory with what is under it).
Status RemoveIfPresent(int dir_fd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : Errno("stat", shown);
  }
  return RemoveAt(dir_fd, name, shown);
}

void SplitPath(const std::string& path, std::string* dir, std::string* base) {
  size_t slash = path.rfind('/');
  *dir = slash == std::string::npos ? "" : path.substr(0, slash);
  *base = slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool NormalizeEntryPath(const std::string& name, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i <= name.size()) {
    size_t slash = name.find('/', i);
    if (slash == std::string::npos) slash = name.size();
    std::string component = name.substr(i, slash - i);
    i = slash + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") return false;
    if (!out->empty()) *out += '/';
    *out += component;
  }
  return true;
}

Status ApplyLayer(int root_fd, const std::string& root_path, ByteSource* layer,
                  const std::string& name, const UnpackLimits& limits, UnpackStats* stats,
                  const std::function<bool()>& canceled) {
  auto stop = [&] { return canceled && canceled(); };
  auto stopped = [&] { return Status::Error("unpacking " + name + " was canceled"); };
  TarReader tar(layer, name);
  DirWalker walker = DirWalker::Writing(root_fd, root_path, std::nullopt);
  std::unordered_set<std::string> written;  // Paths this layer created.
  std::vector<char> buffer(256 << 10);
  uint64_t bytes = 0;
  for (size_t count = 0;; ++count) {
    if (stop()) return stopped();
    TarEntry entry;
    StatusOr<bool> next = tar.Next(&entry);
    if (!next.ok()) return next.status();
    if (!*next) break;
    if (count >= limits.max_entries) {
      return Status::Error(name + " has more than " + std::to_string(limits.max_entries) +
                           " entries");
    }
    ++stats->entries;
    std::string path;
    if (!NormalizeEntryPath(entry.path, &path)) {
      return Status::Error(name + ": the entry `" + entry.path +
                           "` has a \"..\" component, which would reach outside the root file "
                           "system");
    }
    if (path.empty()) continue;  // The root itself: its mode stays ours.
    std::string dir, base;
    SplitPath(path, &dir, &base);
    std::string shown = root_path + "/" + path;
    if (limits.whiteouts && base.rfind(kWhiteoutPrefix, 0) == 0) {
      StatusOr<int> dir_fd = walker.Enter(dir);
      if (!dir_fd.ok()) return dir_fd.status();
      if (base == kOpaqueMarker) {
        Status cleared = RemoveLowerEntries(*dir_fd, dir, root_path + "/" + dir, written, 0);
        if (!cleared.ok()) return cleared;
      } else if (base.rfind(".wh..wh.", 0) != 0) {  // Other .wh..wh. names are AUFS's own.
        std::string hidden = base.substr(std::strlen(kWhiteoutPrefix));
        // `.wh..` and `.wh...` would name the directory itself or its
        // parent (the root file system's own parent, from the top).
        if (hidden.empty() || hidden == "." || hidden == "..") {
          return Status::Error(name + ": the whiteout `" + entry.path +
                               "` names no entry of its directory");
        }
        Status removed = RemoveIfPresent(*dir_fd, hidden, root_path + "/" + Join(dir, hidden));
        if (!removed.ok()) return removed;
      }
      continue;
    }
    StatusOr<int> dir_fd = walker.Enter(dir);
    if (!dir_fd.ok()) return dir_fd.status();
    written.insert(path);
    mode_t mode = entry.mode & 01777;  // No set-id bits.
    switch (entry.type) {
      case TarEntry::Type::kDirectory: {
        StatusOr<UniqueFd> made = MakeDirAt(*dir_fd, base, mode | S_IRWXU, std::nullopt, shown);
        if (!made.ok()) return made.status();
        if (fchmod(made->get(), mode | S_IRWXU) != 0) return Errno("chmod", shown);
        walker.Adopt(path, std::move(*made));
        break;
      }
      case TarEntry::Type::kFile: {
        StatusOr<UniqueFd> file = CreateFileAt(*dir_fd, base, mode, std::nullopt, shown);
        if (!file.ok()) return file.status();
        while (true) {
          if (stop()) return stopped();
          StatusOr<size_t> got = tar.ReadData(buffer.data(), buffer.size());
          if (!got.ok()) return got.status();
          if (*got == 0) break;
          bytes += *got;
          if (bytes > limits.max_bytes) {
            return Status::Error(name + " holds more than " + std::to_string(limits.max_bytes) +
                                 " bytes of files");
          }
          Status wrote = WriteAll(file->get(), std::string_view(buffer.data(), *got), shown);
          if (!wrote.ok()) return wrote;
        }
        timespec times = {entry.mtime, 0};
        SetModeAndTimes(file->get(), mode, false, times, times);
        break;
      }
      case TarEntry::Type::kSymlink: {
        Status linked = SymlinkAt(*dir_fd, base, entry.link_target, std::nullopt, shown);
        if (!linked.ok()) return linked;
        break;
      }
      case TarEntry::Type::kHardLink: {
        std::string target;
        if (!NormalizeEntryPath(entry.link_target, &target) || target.empty()) {
          return Status::Error(name + ": the hard link `" + entry.path + "` -> `" +
                               entry.link_target + "` points outside the root file system");
        }
        std::string target_dir, target_base;
        SplitPath(target, &target_dir, &target_base);
        auto no_such_file = [&] {
          return Status::Error(name + ": the hard link `" + entry.path + "` -> `" +
                               entry.link_target +
                               "` names no file of the root file system (only files the layers "
                               "put there can be linked)");
        };
        UniqueFd target_parent;
        if (!target_dir.empty()) {
          // No symlink anywhere on the way: the target is the rootfs's own.
          StatusOr<UniqueFd> opened =
              OpenBeneath(root_fd, target_dir, O_PATH | O_DIRECTORY, root_path + "/" + target_dir);
          if (!opened.ok()) return no_such_file();
          target_parent = std::move(*opened);
        }
        int parent = target_dir.empty() ? root_fd : target_parent.get();
        struct stat st;
        if (fstatat(parent, target_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            S_ISDIR(st.st_mode)) {
          return no_such_file();
        }
        if (target == path) break;
        Status cleared = RemoveIfPresent(*dir_fd, base, shown);
        if (!cleared.ok()) return cleared;
        if (linkat(parent, target_base.c_str(), *dir_fd, base.c_str(), 0) != 0) {
          return Errno("hard-link " + root_path + "/" + target + " as", shown);
        }
        break;
      }
      case TarEntry::Type::kFifo: {
        Status cleared = RemoveIfPresent(*dir_fd, base, shown);
        if (!cleared.ok()) return cleared;
        if (mkfifoat(*dir_fd, base.c_str(), mode) != 0) return Errno("make the fifo", shown);
        break;
      }
      case TarEntry::Type::kCharDevice:
      case TarEntry::Type::kBlockDevice:
        ++stats->devices_skipped;
        written.erase(path);
        break;
    }
  }
  stats->bytes += bytes;
  return Status::Ok();
}

}  // namespace slipway
