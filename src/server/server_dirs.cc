#include "server/server_dirs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "exec/file_tree.h"

namespace slipway {
namespace {

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " '" + path + "': " + std::strerror(errno));
}

// Opens path, which must be a directory and not a symlink (O_NOFOLLOW), so
// that what is changed below is what was checked.
StatusOr<int> OpenDirectory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return Status::Error("'" + path + "' must be a directory, not a symlink or a file");
    }
    return Errno("open", path);
  }
  return fd;
}

struct Fd {
  int fd;
  ~Fd() { close(fd); }
};

// Makes path a directory with exactly this owner and mode (mkdir if missing,
// fchown/fchmod where it differs). *was gets the mode it had (0 if new).
Status EnsureDirectory(const std::string& path, uid_t uid, gid_t gid, mode_t mode,
                       mode_t* was = nullptr) {
  bool made = mkdir(path.c_str(), mode) == 0;
  if (!made && errno != EEXIST) return Errno("create", path);
  StatusOr<int> opened = OpenDirectory(path);
  if (!opened.ok()) return opened.status();
  Fd dir{*opened};
  struct stat st {};
  if (fstat(dir.fd, &st) != 0) return Errno("stat", path);
  if (was != nullptr) *was = made ? 0 : (st.st_mode & 07777);
  if ((st.st_uid != uid || st.st_gid != gid) && fchown(dir.fd, uid, gid) != 0) {
    return Errno("give an owner (" + std::to_string(uid) + ":" + std::to_string(gid) + ") to",
                 path);
  }
  if ((st.st_mode & 07777) != mode && fchmod(dir.fd, mode) != 0) return Errno("chmod", path);
  return Status::Ok();
}

// Creates the directories above path (as the umask makes them).
Status MakeParent(const std::string& path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::Error("cannot create '" + parent.string() + "': " + ec.message());
  return Status::Ok();
}

}  // namespace

mode_t ProjectSharedMode(const JobIdentity& identity, mode_t owner, mode_t group) {
  return identity.uid == geteuid() ? owner : owner | group;
}

void UseServerUmask() { umask(077); }

Status SecureDataDir(const std::string& dir, const std::vector<std::string>& files,
                     std::vector<std::string>* notes) {
  Status parent = MakeParent(dir);
  if (!parent.ok()) return parent;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("create", dir);
  // Not OpenDirectory: a data directory reached through a symlink is the
  // administrator's choice; its target is what gets the mode.
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return Errno("stat", dir);
  if (st.st_uid != geteuid()) {
    notes->push_back("the data directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
                     ", not to the server's user (uid " + std::to_string(geteuid()) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    if (chmod(dir.c_str(), st.st_mode & 0700) != 0) return Errno("chmod", dir);
    notes->push_back("the data directory " + dir + " was " + Octal(st.st_mode) +
                     ", readable by others than the server's user: now " +
                     Octal(st.st_mode & 0700));
  }
  for (const std::string& file : files) {
    if (lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) continue;
    if (chmod(file.c_str(), st.st_mode & 0600) != 0) return Errno("chmod", file);
    notes->push_back(file + " was " + Octal(st.st_mode) + ": now " + Octal(st.st_mode & 0600));
  }
  return Status::Ok();
}

std::string DefaultBuildsDir(const std::string& data_dir) {
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "-builds";
}

Status PrepareBuildsDir(const std::string& dir, std::vector<std::string>* notes) {
  Status parent = MakeParent(dir);
  if (!parent.ok()) return parent;
  mode_t was = 0;
  Status s = EnsureDirectory(dir, geteuid(), getegid(), 0711, &was);
  if (!s.ok()) return s;
  if ((was & ~mode_t{0711}) != 0) {
    notes->push_back("the builds directory " + dir + " was " + Octal(was) + ": now 0711");
  }
  return Status::Ok();
}

StatusOr<UniqueFd> LockBuildsDir(const std::string& dir) {
  const std::string path = dir + "/.server-lock";
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return Errno("open", path);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Errno("lock", path);
    return Status::Error("the builds directory " + dir +
                         " is in use by another server: give each server its own --builds-dir");
  }
  return fd;
}

Status CheckJobsCanReach(const std::string& dir) {
  char* resolved = realpath(dir.c_str(), nullptr);
  if (resolved == nullptr) return Errno("resolve", dir);
  std::string real = resolved;
  free(resolved);
  for (size_t slash = real.find('/', 1); slash != std::string::npos;
       slash = real.find('/', slash + 1)) {
    std::string above = real.substr(0, slash);
    struct stat st {};
    if (stat(above.c_str(), &st) != 0) return Errno("stat", above);
    if ((st.st_mode & S_IXOTH) == 0) {
      return Status::Error("jobs cannot reach the builds directory " + dir + ": '" + above +
                           "' is " + Octal(st.st_mode) +
                           ", and jobs run as other users than the server's, which need "
                           "search permission (o+x) on every directory above it; `chmod o+x " +
                           above + "` or choose another --builds-dir");
    }
  }
  return Status::Ok();
}

StatusOr<ProjectDirs> PrepareProjectDirs(const std::string& builds_dir, int64_t project_id,
                                         const JobIdentity& identity) {
  ProjectDirs dirs;
  dirs.root = builds_dir + "/" + std::to_string(project_id);
  Status s =
      EnsureDirectory(dirs.root, geteuid(), identity.gid, ProjectSharedMode(identity, 0700, 0050));
  // The HOME all of the project's jobs shared before each job had its own
  // (exec/job_lifecycle.h): what they left there goes.
  if (s.ok()) s = RemoveTree(dirs.root + "/home");
  if (!s.ok()) return s;
  return dirs;
}

StatusOr<std::string> PrepareVariablesDir(const std::string& project_root, int64_t pipeline_id,
                                          const JobIdentity& identity) {
  std::string parent = project_root + "/variables";
  std::string dir = parent + "/" + std::to_string(pipeline_id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::Error("cannot empty '" + dir + "': " + ec.message());
  mode_t mode = ProjectSharedMode(identity, 0700, 0050);
  Status s = EnsureDirectory(parent, geteuid(), identity.gid, mode);
  if (s.ok()) s = EnsureDirectory(dir, geteuid(), identity.gid, mode);
  if (!s.ok()) return s;
  return dir;
}

Status ShareFilesWithProject(const std::string& dir, const JobIdentity& identity) {
  StatusOr<int> opened = OpenDirectory(dir);
  if (!opened.ok()) return opened.status();
  DIR* listing = fdopendir(*opened);
  if (listing == nullptr) {
    close(*opened);
    return Errno("list", dir);
  }
  struct Closer {
    DIR* d;
    ~Closer() { closedir(d); }
  } closer{listing};
  mode_t mode = ProjectSharedMode(identity, 0600, 0040);
  while (dirent* entry = readdir(listing)) {
    // Changed through a descriptor opened without following links.
    int file =
        openat(dirfd(listing), entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (file < 0) continue;  // A symlink: not a file the server wrote.
    Fd closer_file{file};
    struct stat st {};
    if (fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::string path = dir + "/" + entry->d_name;
    if (fchown(file, geteuid(), identity.gid) != 0) {
      return Errno("give the project's group to", path);
    }
    if (fchmod(file, mode) != 0) return Errno("chmod", path);
  }
  return Status::Ok();
}

}  // namespace slipway
