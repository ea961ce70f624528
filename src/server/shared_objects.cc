#include "server/shared_objects.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "exec/beneath_io.h"
#include "server/server_dirs.h"

namespace slipway {
namespace {

// How often a copy starts again because git deleted a file it was about to
// copy (a repack in the background) before giving up.
constexpr int kMaxAttempts = 5;

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " '" + path + "': " + std::strerror(errno));
}

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// The object files git reads, by their path under an objects directory:
// loose objects (<2 hex>/<hex>) and packs with their indexes.
bool IsObjectFile(const std::string& dir, const std::string& name) {
  if (dir == "pack") {
    if (!name.starts_with("pack-")) return false;
    size_t dot = name.rfind('.');
    if (dot == std::string::npos || !IsHex(std::string_view(name).substr(5, dot - 5))) {
      return false;
    }
    std::string_view ext = std::string_view(name).substr(dot);
    return ext == ".pack" || ext == ".idx" || ext == ".rev";
  }
  return dir.size() == 2 && IsHex(dir) && name.size() >= 38 && IsHex(name);
}

// Order within a directory: packs first, their indexes last (git finds a
// pack by its index, so the index must not come before the pack).
int Rank(const std::string& name) { return name.ends_with(".idx") ? 1 : 0; }

struct File {
  off_t size = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
};
// By directory ("pack" or a loose-object fan-out), then by name.
using Listing = std::map<std::string, std::map<std::string, File>>;

// The object files under objects (a missing directory holds none).
StatusOr<Listing> ListObjects(const std::string& objects) {
  Listing listing;
  DIR* top = opendir(objects.c_str());
  if (top == nullptr) {
    if (errno == ENOENT) return listing;
    return Errno("list", objects);
  }
  std::vector<std::string> dirs;
  while (dirent* e = readdir(top)) {
    std::string name = e->d_name;
    if (name == "pack" || (name.size() == 2 && IsHex(name))) dirs.push_back(name);
  }
  closedir(top);
  for (const std::string& dir : dirs) {
    std::string path = objects + "/" + dir;
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      return Errno("open", path);
    }
    DIR* d = fdopendir(fd);
    if (d == nullptr) {
      close(fd);
      return Errno("list", path);
    }
    std::map<std::string, File>& files = listing[dir];
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (!IsObjectFile(dir, name)) continue;
      struct stat st;
      if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      files[name] = File{st.st_size, st.st_uid, st.st_gid, st.st_mode & 07777};
    }
    closedir(d);
  }
  return listing;
}

struct Wanted {
  uid_t uid;
  gid_t gid;
  mode_t dir_mode;
  mode_t file_mode;
};

// Gives the entry name in dir_fd the wanted owner and mode where it differs.
Status Repair(int dir_fd, const std::string& name, const Wanted& wanted, mode_t mode,
              const std::string& path) {
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  UniqueFd closer(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) return Errno("stat", path);
  if ((st.st_uid != wanted.uid || st.st_gid != wanted.gid) &&
      fchown(fd, wanted.uid, wanted.gid) != 0) {
    return Errno("chown", path);
  }
  if ((st.st_mode & 07777) != mode && fchmod(fd, mode) != 0) return Errno("chmod", path);
  return Status::Ok();
}

// Copies (or links) from/name into to_fd/name; *vanished is set if the
// source is gone.
Status CopyOne(const std::string& from_dir, int to_fd, const std::string& to_dir,
               const std::string& name, const Wanted& wanted, bool* vanished) {
  std::string source = from_dir + "/" + name;
  std::string dest = to_dir + "/" + name;
  UniqueFd in(open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) {
    if (errno == ENOENT) {
      *vanished = true;
      return Status::Ok();
    }
    return Errno("open", source);
  }
  struct stat st;
  if (fstat(in.get(), &st) != 0) return Errno("stat", source);
  std::string tmp = ".tmp-" + name;
  (void)unlinkat(to_fd, tmp.c_str(), 0);
  // The mirror's own file will do when it is already what the jobs need
  // (a server whose jobs run as itself): no second copy on disk.
  if (st.st_uid == wanted.uid && st.st_gid == wanted.gid &&
      (st.st_mode & 07777) == wanted.file_mode &&
      linkat(AT_FDCWD, source.c_str(), to_fd, tmp.c_str(), 0) == 0) {
    if (renameat(to_fd, tmp.c_str(), to_fd, name.c_str()) != 0) return Errno("rename", dest);
    return Status::Ok();
  }
  StatusOr<UniqueFd> out =
      CreateFileAt(to_fd, tmp, wanted.file_mode, FileOwner{wanted.uid, wanted.gid}, dest);
  if (!out.ok()) return out.status();
  Status s = CopyFileData(in.get(), out->get(), st.st_size, source, dest);
  if (s.ok() && fchmod(out->get(), wanted.file_mode) != 0) s = Errno("chmod", dest);
  if (s.ok() && close(out->Release()) != 0) s = Errno("write", dest);
  if (s.ok() && renameat(to_fd, tmp.c_str(), to_fd, name.c_str()) != 0) s = Errno("rename", dest);
  if (!s.ok()) (void)unlinkat(to_fd, tmp.c_str(), 0);
  return s;
}

// One pass: adds what `to` lacks, then removes what `from` no longer has.
// *vanished: a file of `from` went away meanwhile (nothing was removed).
Status SharePass(const std::string& from, const std::string& to, const Wanted& wanted,
                 bool* vanished) {
  StatusOr<Listing> source = ListObjects(from);
  if (!source.ok()) return source.status();
  StatusOr<Listing> present = ListObjects(to);
  if (!present.ok()) return present.status();
  StatusOr<UniqueFd> to_fd = OpenDirNoFollow(to);
  if (!to_fd.ok()) return to_fd.status();

  for (const auto& [dir, files] : *source) {
    std::string to_dir = to + "/" + dir;
    StatusOr<UniqueFd> dir_fd =
        MakeDirAt(to_fd->get(), dir, wanted.dir_mode, FileOwner{wanted.uid, wanted.gid}, to_dir);
    if (!dir_fd.ok()) return dir_fd.status();
    Status s = Repair(to_fd->get(), dir, wanted, wanted.dir_mode, to_dir);
    if (!s.ok()) return s;
    std::vector<std::string> names;
    for (const auto& [name, file] : files) names.push_back(name);
    std::stable_sort(names.begin(), names.end(),
                     [](const std::string& a, const std::string& b) { return Rank(a) < Rank(b); });
    const std::map<std::string, File>* have = nullptr;
    if (auto it = present->find(dir); it != present->end()) have = &it->second;
    for (const std::string& name : names) {
      const File* kept = nullptr;
      if (have != nullptr) {
        auto it = have->find(name);
        if (it != have->end() && it->second.size == files.at(name).size) kept = &it->second;
      }
      if (kept == nullptr) {
        s = CopyOne(from + "/" + dir, dir_fd->get(), to_dir, name, wanted, vanished);
      } else if (kept->uid != wanted.uid || kept->gid != wanted.gid ||
                 kept->mode != wanted.file_mode) {
        // The project's gid changed (the job user's ranges did).
        s = Repair(dir_fd->get(), name, wanted, wanted.file_mode, to_dir + "/" + name);
      }
      if (!s.ok()) return s;
    }
  }
  if (*vanished) return Status::Ok();  // Another pass lists `from` again.

  // Indexes go first: git must not find an index whose pack is gone.
  for (int rank : {1, 0}) {
    for (const auto& [dir, files] : *present) {
      auto wanted_dir = source->find(dir);
      for (const auto& [name, file] : files) {
        if (Rank(name) != rank) continue;
        if (wanted_dir != source->end() && wanted_dir->second.count(name) > 0) continue;
        std::string path = to + "/" + dir + "/" + name;
        if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove", path);
      }
    }
  }
  for (const auto& [dir, files] : *present) {
    if (source->count(dir) == 0) (void)rmdir((to + "/" + dir).c_str());  // Empty by now.
  }
  return Status::Ok();
}

}  // namespace

Status ShareGitObjects(const std::string& from, const std::string& to,
                       const JobIdentity& identity) {
  Wanted wanted{geteuid(), identity.gid, ProjectSharedMode(identity, 0700, 0050),
                ProjectSharedMode(identity, 0400, 0040)};
  StatusOr<UniqueFd> made = MakeDirNoFollow(to, FileOwner{wanted.uid, wanted.gid});
  if (!made.ok()) return made.status();
  struct stat st;
  if (fstat(made->get(), &st) != 0) return Errno("stat", to);
  if ((st.st_uid != wanted.uid || st.st_gid != wanted.gid) &&
      fchown(made->get(), wanted.uid, wanted.gid) != 0) {
    return Errno("chown", to);
  }
  if ((st.st_mode & 07777) != wanted.dir_mode && fchmod(made->get(), wanted.dir_mode) != 0) {
    return Errno("chmod", to);
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    bool vanished = false;
    Status s = SharePass(from, to, wanted, &vanished);
    if (!s.ok() || !vanished) return s;
  }
  return Status::Error("cannot share the git objects of " + from +
                       " with the jobs: git keeps "
                       "removing them while they are copied");
}

}  // namespace slipway
