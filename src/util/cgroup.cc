#include "util/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

namespace slipway {
namespace {

constexpr char kPrefix[] = "slipway-";

// The content of a /proc or cgroup file (their sizes read as 0, so read to
// the end), at most max_bytes.
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = size_t{64} << 20) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error("cannot open " + path + ": " + std::strerror(errno));
  std::string content;
  char buffer[8192];
  while (content.size() < max_bytes) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return Status::Error("cannot read " + path + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    content.append(buffer, std::min(static_cast<size_t>(n), max_bytes - content.size()));
  }
  close(fd);
  return content;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::strtol(field.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// Field 22 of /proc/<pid>/stat (start time in ticks since boot), or empty
// when there is no such process.
std::string StartTime(pid_t pid) {
  StatusOr<std::string> stat = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return "";
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat->substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return "";
}

// The whole of a small file read through a descriptor from offset 0.
std::string PreadAll(int fd) {
  char buffer[1024];
  ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

bool WriteAt(int dir_fd, const char* name, const char* text) {
  int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
  close(fd);
  return ok;
}

Status WriteLimitFile(int dir_fd, const char* name, const std::string& text, bool optional) {
  // O_TRUNC as a shell's `>` opens it: cgroupfs ignores it.
  int fd = openat(dir_fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    if (optional && errno == ENOENT) return Status::Ok();
    return Status::Error(std::string("cannot set the cgroup's ") + name + ": " +
                         std::strerror(errno));
  }
  ssize_t n = write(fd, text.data(), text.size());
  int saved = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status::Error(std::string("cannot set the cgroup's ") + name + " to " + text + ": " +
                         std::strerror(n < 0 ? saved : EIO));
  }
  return Status::Ok();
}

// The names of the subdirectories (child cgroups) of dir.
std::vector<std::string> ChildCgroups(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

// Every pid in dir's cgroup.procs and those of its descendants.
void CollectPids(const std::string& dir, std::vector<pid_t>* pids) {
  StatusOr<std::string> procs = ReadFile(dir + "/cgroup.procs");
  if (procs.ok()) {
    std::istringstream in(*procs);
    for (long pid; in >> pid;) pids->push_back(static_cast<pid_t>(pid));
  }
  for (const std::string& child : ChildCgroups(dir)) CollectPids(dir + "/" + child, pids);
}

// rmdir of dir after its descendants, deepest first.
bool RemoveCgroupTree(const std::string& dir) {
  for (const std::string& child : ChildCgroups(dir)) RemoveCgroupTree(dir + "/" + child);
  return rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

// Waits for cgroup.events (open on fd) to say key value, up to timeout_ms.
bool WaitForEvent(int fd, const char* line, int timeout_ms) {
  if (PreadAll(fd).find(line) != std::string::npos) return true;
  pollfd p{fd, POLLPRI, 0};
  poll(&p, 1, timeout_ms);
  return PreadAll(fd).find(line) != std::string::npos;
}

}  // namespace

StatusOr<std::string> OwnCgroupDir() {
  StatusOr<std::string> cgroups = ReadFile("/proc/self/cgroup", 1 << 20);
  if (!cgroups.ok()) return cgroups.status();
  std::string path;
  bool found = false;
  std::istringstream lines(*cgroups);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) == 0) {
      path = line.substr(3);
      found = true;
    }
  }
  if (!found) return Status::Error("no cgroup v2 in /proc/self/cgroup");
  StatusOr<std::string> mounts = ReadFile("/proc/self/mountinfo", 16 << 20);
  if (!mounts.ok()) return mounts.status();
  std::istringstream mount_lines(*mounts);
  for (std::string line; std::getline(mount_lines, line);) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    root = Unescape(root);
    mount_point = Unescape(mount_point);
    if (root == "/") root.clear();
    if (path.compare(0, root.size(), root) != 0) continue;
    std::string dir = mount_point + path.substr(root.size());
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
  }
  return Status::Error("cgroup v2 is not mounted where slipway can see its own cgroup");
}

std::string SubtreeControllers(const std::string& parent) {
  StatusOr<std::string> text = ReadFile(parent + "/cgroup.subtree_control", 4096);
  if (!text.ok()) return "";
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return *text;
}

bool HasController(const std::string& controllers, const std::string& controller) {
  std::istringstream words(controllers);
  std::string word;
  while (words >> word) {
    if (word == controller) return true;
  }
  return false;
}

Status WriteCgroupLimits(int dir_fd, const CgroupLimits& limits) {
  if (limits.memory_bytes != 0) {
    Status s = WriteLimitFile(dir_fd, "memory.max", std::to_string(limits.memory_bytes), false);
    if (!s.ok()) return s;
    s = WriteLimitFile(dir_fd, "memory.swap.max", "0", true);
    if (!s.ok()) return s;
  }
  if (limits.cpu_millis != 0) {
    // A quota of at least 1 ms: the kernel refuses less.
    uint64_t quota = std::max<uint64_t>(limits.cpu_millis * 100, 1000);
    Status s = WriteLimitFile(dir_fd, "cpu.max", std::to_string(quota) + " 100000", false);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<JobCgroup>> JobCgroup::Create(const std::string& parent,
                                                       bool use_kill_file) {
  static const std::string owner = [] {
    pid_t self = getpid();
    return kPrefix + std::to_string(self) + "-" + StartTime(self) + "-";
  }();
  static std::atomic<uint64_t> counter{0};
  std::string path = parent + "/" + owner + std::to_string(++counter);
  if (mkdir(path.c_str(), 0755) != 0) {
    return Status::Error("cannot create cgroup " + path + ": " + std::strerror(errno));
  }
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;
    rmdir(path.c_str());
    return Status::Error("cannot open cgroup " + path + ": " + std::strerror(saved));
  }
  return std::unique_ptr<JobCgroup>(new JobCgroup(std::move(path), fd, use_kill_file));
}

StatusOr<std::unique_ptr<JobCgroup>> JobCgroup::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Error("cannot open cgroup " + path + ": " + std::strerror(errno));
  return std::unique_ptr<JobCgroup>(new JobCgroup(path, fd, true));
}

JobCgroup::~JobCgroup() {
  Destroy();
  close(dir_fd_);
}

void JobCgroup::KillAll() {
  // cgroup.kill (5.14) kills the whole subtree at once, forks in flight too.
  if (use_kill_file_ && WriteAt(dir_fd_, "cgroup.kill", "1")) return;
  FreezeAndKill();
}

void JobCgroup::FreezeAndKill() {
  // Frozen processes cannot fork, so once the cgroup is frozen its list of
  // processes is complete; SIGKILL reaches frozen processes.
  bool frozen = WriteAt(dir_fd_, "cgroup.freeze", "1");
  if (frozen) {
    int events = openat(dir_fd_, "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (events >= 0) {
      WaitForEvent(events, "frozen 1", 1000);
      close(events);
    }
  }
  std::vector<pid_t> pids;
  CollectPids(path_, &pids);
  for (pid_t pid : pids) kill(pid, SIGKILL);
  if (frozen) WriteAt(dir_fd_, "cgroup.freeze", "0");
}

void JobCgroup::WaitEmpty() {
  int events = openat(dir_fd_, "cgroup.events", O_RDONLY | O_CLOEXEC);
  if (events < 0) return;  // Removed already.
  // Another slipway may remove the cgroup meanwhile (every slipway that
  // starts removes the stale ones): its events file then reads nothing, and
  // waiting for "populated 0" would never end. A removal wakes no poll, so
  // the wait looks again every 100 ms.
  auto removed = [this] { return faccessat(dir_fd_, "cgroup.procs", F_OK, 0) != 0; };
  while (!WaitForEvent(events, "populated 0", 100) && !removed()) KillAll();
  close(events);
}

int JobCgroup::CountProcesses() const {
  std::vector<pid_t> pids;
  CollectPids(path_, &pids);
  return static_cast<int>(pids.size());
}

void JobCgroup::Destroy() {
  if (removed_) return;
  // Usually the job left nothing: rmdir succeeds at once (it fails with
  // EBUSY while a process or a child cgroup is left).
  if (rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    KillAll();
    WaitEmpty();
    RemoveCgroupTree(path_);
  }
  removed_ = true;
}

int KillStaleJobCgroups(const std::string& parent) {
  int killed = 0;
  for (const std::string& name : ChildCgroups(parent)) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    // slipway-<pid>-<start>-<n>
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + sizeof kPrefix - 1, &end, 10);
    if (pid <= 0 || *end != '-') continue;
    size_t start_at = static_cast<size_t>(end + 1 - name.c_str());
    std::string start = name.substr(start_at, name.rfind('-') + 1 - start_at - 1);
    if (StartTime(static_cast<pid_t>(pid)) == start) continue;  // Its slipway still runs.
    StatusOr<std::unique_ptr<JobCgroup>> stale = JobCgroup::Open(parent + "/" + name);
    if (!stale.ok()) continue;
    killed += (*stale)->CountProcesses();
  }
  return killed;
}

}  // namespace slipway
