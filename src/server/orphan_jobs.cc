#include "server/orphan_jobs.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "exec/file_tree.h"

namespace slipway {
namespace {

// The value of NAME in /proc/<pid>/environ, or empty.
std::string EnvironValue(const std::string& pid, const std::string& name) {
  StatusOr<std::string> read = ReadFile("/proc/" + pid + "/environ");
  if (!read.ok()) return "";
  const std::string& env = *read;
  std::string key = name + "=";
  size_t start = 0;
  while (start < env.size()) {
    size_t end = env.find('\0', start);
    if (end == std::string::npos) end = env.size();
    if (env.compare(start, key.size(), key) == 0) {
      return env.substr(start + key.size(), end - start - key.size());
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

int KillOrphanedJobs(const std::string& dir) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  std::string prefix = dir + "/";
  pid_t self = getpid();
  int found = 0;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 1 || *end != '\0' || pid == self) continue;
    std::string dir = EnvironValue(entry->d_name, "CI_PROJECT_DIR");
    if (dir.compare(0, prefix.size(), prefix) != 0) continue;
    ++found;
    pid_t group = getpgid(static_cast<pid_t>(pid));
    if (group > 1 && group != getpgrp()) kill(-group, SIGKILL);
    kill(static_cast<pid_t>(pid), SIGKILL);
  }
  closedir(proc);
  return found;
}

}  // namespace slipway
