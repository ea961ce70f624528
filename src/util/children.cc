#include "util/children.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/spawn.h"
#include "util/thread_annotations.h"

namespace slipway {
namespace {

// Shared by spawns between clone and registration; exclusive while strays
// are looked for.
std::shared_mutex& SpawnMutex() {
  static std::shared_mutex mu;
  return mu;
}

// pid -> how many times registered (a pid reaped and reused at once can be
// registered again before the first ReapChild has forgotten it).
struct Registry {
  std::mutex mu;
  std::unordered_map<pid_t, int> spawned GUARDED_BY(mu);
};
Registry& Spawned() {
  static Registry registry;
  return registry;
}

// The whole of a small /proc file, or empty.
std::string ReadProcFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  close(fd);
  return text;
}

void ParsePids(const std::string& text, std::vector<pid_t>* pids) {
  const char* p = text.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    long pid = std::strtol(p, &end, 10);
    if (end == p) break;
    if (pid > 0) pids->push_back(static_cast<pid_t>(pid));
    p = end;
  }
}

// Calls fn with each numeric entry of dir.
void ForEachNumericEntry(const char* dir, const std::function<void(const char*)>& fn) {
  DIR* d = opendir(dir);
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') fn(e->d_name);
  }
  closedir(d);
}

// Kills and reaps every child but those exempt() returns, round after round
// (the children of those killed reach a subreaper as they die), until a
// round finds none. exempt() is asked before the children are listed: a
// spawned child reaped meanwhile is then not taken for a stray. Returns how
// many were killed.
int KillChildrenExcept(const std::function<std::unordered_map<pid_t, int>()>& exempt) {
  int killed = 0;
  while (true) {
    std::unordered_map<pid_t, int> spared = exempt();
    std::vector<pid_t> targets;
    for (pid_t pid : ListChildren()) {
      if (spared.count(pid) == 0) targets.push_back(pid);
    }
    if (targets.empty()) return killed;
    for (pid_t pid : targets) kill(pid, SIGKILL);
    for (pid_t pid : targets) {
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    killed += static_cast<int>(targets.size());
  }
}

}  // namespace

ChildRegistration::ChildRegistration() : lock_(SpawnMutex()) {}
ChildRegistration::~ChildRegistration() = default;

void ChildRegistration::Register(pid_t pid) {
  Registry& r = Spawned();
  std::lock_guard<std::mutex> guard(r.mu);
  ++r.spawned[pid];
}

bool IsSpawnedChild(pid_t pid) {
  Registry& r = Spawned();
  std::lock_guard<std::mutex> guard(r.mu);
  return r.spawned.count(pid) > 0;
}

int ReapChild(pid_t pid) {
  int status = 0;
  pid_t rc;
  while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  Registry& r = Spawned();
  std::lock_guard<std::mutex> guard(r.mu);
  auto it = r.spawned.find(pid);
  if (it != r.spawned.end() && --it->second == 0) r.spawned.erase(it);
  return rc == pid ? status : -1;
}

std::vector<pid_t> ListChildren() {
  std::vector<pid_t> pids;
  bool have_children_files = false;
  ForEachNumericEntry("/proc/self/task", [&](const char* tid) {
    std::string path = std::string("/proc/self/task/") + tid + "/children";
    if (access(path.c_str(), R_OK) != 0) return;
    have_children_files = true;
    ParsePids(ReadProcFile(path), &pids);
  });
  if (!have_children_files) {
    // Without CONFIG_PROC_CHILDREN: every process whose parent we are.
    std::string self = std::to_string(getpid());
    ForEachNumericEntry("/proc", [&](const char* pid) {
      std::string stat = ReadProcFile(std::string("/proc/") + pid + "/stat");
      size_t paren = stat.rfind(')');
      // ") S PPID ...": the state, then the parent's pid.
      if (paren == std::string::npos || paren + 4 > stat.size()) return;
      std::string rest = stat.substr(paren + 4);
      if (rest.compare(0, self.size() + 1, self + " ") == 0) {
        pids.push_back(static_cast<pid_t>(std::atol(pid)));
      }
    });
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

void KillAllChildren() {
  KillChildrenExcept([] { return std::unordered_map<pid_t, int>(); });
}

int KillStrayChildren() {
  std::unique_lock<std::shared_mutex> no_spawns(SpawnMutex());
  return KillChildrenExcept([] {
    Registry& r = Spawned();
    std::lock_guard<std::mutex> guard(r.mu);
    return r.spawned;
  });
}

}  // namespace slipway
