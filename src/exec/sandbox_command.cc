#include "exec/sandbox_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/unique_fd.h"

namespace slipway {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// mkdir -p of path (absolute) below root, following no symbolic link (the
// image's content decides what is a link; the walk must stay in root);
// with file_at_end, the last component is an (empty) file.
Status MakeBeneath(const std::string& root, const std::string& path, bool file_at_end = false) {
  UniqueFd dir(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  size_t at = 0;
  while (dir.valid() && at < path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(at, end - at);
    at = end + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") return Status::Error("'..' in " + path);
    if (file_at_end && end == path.size()) {
      UniqueFd file(
          openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!file.valid()) break;
      return Status::Ok();
    }
    if (mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) break;
    dir =
        UniqueFd(openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!dir.valid() || at < path.size()) {
    return Status::Error("cannot make " + path + " in the image: " + std::strerror(errno));
  }
  return Status::Ok();
}

// The capabilities root keeps in an image: Docker's default set without
// CAP_MKNOD (the sandbox has no devices cgroup to stop a job from opening a
// disk it made a node for). On the host's system root keeps none.
constexpr const char* kImageCaps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",          "CAP_FSETID", "CAP_SETUID",
    "CAP_SETGID",  "CAP_SETFCAP",      "CAP_SETPCAP",         "CAP_KILL",   "CAP_SYS_CHROOT",
    "CAP_NET_RAW", "CAP_AUDIT_WRITE",  "CAP_NET_BIND_SERVICE"};

}  // namespace

StatusOr<std::vector<std::string>> SandboxArgv(const SandboxTools& tools, const SandboxCommand& c) {
  std::vector<std::string> a;
  if (!c.netns.empty()) a = {tools.nsenter, "--net=" + c.netns, "--"};
  if (c.switch_user) {
    // After nsenter (which needs root), before bwrap, which then makes the
    // sandbox without privileges in a user namespace of the job's user.
    a.insert(a.end(), {tools.setpriv, "--reuid=" + std::to_string(c.uid),
                       "--regid=" + std::to_string(c.gid), "--clear-groups", "--"});
  }
  const SandboxLimits& l = c.limits;
  if (l.memory_bytes != 0 || l.cpu_seconds != 0 || l.processes != 0) {
    a.push_back(tools.prlimit);
    if (l.memory_bytes != 0) a.push_back("--as=" + std::to_string(l.memory_bytes));
    if (l.cpu_seconds != 0) a.push_back("--cpu=" + std::to_string(l.cpu_seconds));
    if (l.processes != 0) a.push_back("--nproc=" + std::to_string(l.processes));
    a.push_back("--");
  }
  a.insert(a.end(), {tools.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                     "--hostname", "sandbox"});
  if (!c.netns.empty()) a.push_back("--share-net");
  if (!c.switch_user && geteuid() == 0) {
    a.insert(a.end(), {"--cap-drop", "ALL"});
    if (c.layer != nullptr) {
      for (const char* cap : kImageCaps) a.insert(a.end(), {"--cap-add", cap});
    }
  }
  if (c.layer != nullptr) {
    const std::string& root = c.layer->root();
    if (c.layer->overlay()) {
      // The mount points bwrap needs, made here as root: bwrap may run as
      // the image's user, who cannot make them in the image's directories.
      std::vector<std::string> dirs = {"/proc", "/dev", "/tmp"};
      if (!c.slot.empty()) dirs.push_back(c.slot);
      for (const auto& [source, target] : c.read_only_dirs) dirs.push_back(target);
      for (const std::string& d : dirs) {
        if (Status made = MakeBeneath(root, d); !made.ok()) return made;
      }
      for (const auto& [source, target] : c.files) {
        if (Status made = MakeBeneath(root, Parent(target)); !made.ok()) return made;
        if (Status made = MakeBeneath(root, target, true); !made.ok()) return made;
      }
      a.insert(a.end(), {"--bind", root, "/"});
    } else {
      a.insert(a.end(), {"--ro-bind", root, "/"});
      for (const std::string& d : SandboxLayer::writable_dirs()) {
        if (IsDir(root + d)) a.insert(a.end(), {"--tmpfs", d});
      }
      // bwrap cannot make the slot's mount point in a read-only root.
      std::string top = c.slot.substr(0, c.slot.find('/', 1));
      if (!c.slot.empty() && !IsDir(root + top)) a.insert(a.end(), {"--tmpfs", top});
    }
  } else {
    a.insert(a.end(), {"--ro-bind", "/", "/", "--tmpfs", "/run", "--tmpfs", "/var/tmp"});
    // The host user's files (keys, tokens) stay out; the job gets an empty,
    // writable HOME.
    if (!c.home.empty() && c.home != "/" && IsDir(c.home)) {
      a.insert(a.end(), {"--tmpfs", c.home});
    }
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"});
  if (c.layer == nullptr) {
    // The run's or server's state beside the builds (the snapshot, other
    // jobs' slots, reports), then the job's own slot on top.
    if (!c.slot.empty()) {
      std::string state = Parent(Parent(c.slot));
      if (state != "/") a.insert(a.end(), {"--tmpfs", state});
    }
    for (const std::string& hide : c.hide) {
      if (IsDir(hide)) a.insert(a.end(), {"--tmpfs", hide});
    }
  }
  if (!c.slot.empty()) a.insert(a.end(), {"--bind", c.slot_source, c.slot});
  for (const auto& [source, target] : c.read_only_dirs) {
    a.insert(a.end(), {"--ro-bind", source, target});
  }
  for (const auto& [source, target] : c.files) {
    // On the host's system, only over a file there (not a link into /run).
    if (c.layer != nullptr || IsFile(target)) a.insert(a.end(), {"--ro-bind", source, target});
  }
  if (!c.cwd.empty()) a.insert(a.end(), {"--chdir", c.cwd});
  a.push_back("--");
  a.insert(a.end(), c.command.begin(), c.command.end());
  return a;
}

}  // namespace slipway
