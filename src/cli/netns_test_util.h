// Test helper (header-only, tests only): "hosts" for fault tests, made of
// network namespaces. The server's namespace holds a bridge (br0,
// 10.213.0.1/24); each further host is a namespace joined to that bridge
// by a veth pair (pK in the server's namespace, eth0 in the host's,
// 10.213.0.(10+K)/24). The addresses exist only inside these namespaces.
// Names carry the test process's pid (slwnet<pid>-…), so parallel runs do
// not collide; namespaces a dead run left are removed by the next one.
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2's `ip`.
#ifndef SLIPWAY_CLI_NETNS_TEST_UTIL_H_
#define SLIPWAY_CLI_NETNS_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/serve_test_util.h"
#include "util/test_wait.h"

namespace slipway {
namespace netns_test {

inline constexpr const char* kServerAddress = "10.213.0.1";

// Runs argv (no shell) to completion; its exit code, with stdout and
// stderr in *out.
inline int Run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  int rc = 0;
  std::string err;
  std::string text = serve_test::RunCommand(argv, &rc, &err);
  if (out != nullptr) *out = text + err;
  return rc;
}

// The pids of the processes in namespace ns (`ip netns pids`).
inline std::set<pid_t> PidsIn(const std::string& ns) {
  std::string out;
  std::set<pid_t> pids;
  if (Run({"ip", "netns", "pids", ns}, &out) != 0) return pids;
  size_t at = 0;
  while (at < out.size()) {
    size_t nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    pid_t pid = std::atoi(out.substr(at, nl - at).c_str());
    if (pid > 0 && ProcessAlive(pid)) pids.insert(pid);
    at = nl + 1;
  }
  return pids;
}

// Kills every process in ns and deletes it (its veth ends go with it).
inline void Remove(const std::string& ns) {
  for (int round = 0; round < 50; ++round) {
    std::set<pid_t> pids = PidsIn(ns);
    if (pids.empty()) break;
    for (pid_t pid : pids) kill(pid, SIGKILL);
    for (pid_t pid : pids) WaitGone(pid);
  }
  Run({"ip", "netns", "del", ns});
}

class Hosts {
 public:
  Hosts() : prefix_("slwnet" + std::to_string(getpid()) + "-") { RemoveStale(); }
  ~Hosts() {
    Leave();
    for (auto& [pid, ns] : spawned_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) Remove(*it);
  }
  Hosts(const Hosts&) = delete;
  Hosts& operator=(const Hosts&) = delete;

  // Makes the server's namespace and its bridge. Empty, or why not.
  std::string MakeServer() {
    if (geteuid() != 0) return "not root";
    server_ = prefix_ + "srv";
    return Steps(
        {{"ip", "netns", "add", server_},
         {"ip", "-n", server_, "link", "set", "lo", "up"},
         {"ip", "-n", server_, "link", "add", "br0", "type", "bridge", "forward_delay", "0"},
         {"ip", "-n", server_, "addr", "add", std::string(kServerAddress) + "/24", "dev", "br0"},
         {"ip", "-n", server_, "link", "set", "br0", "up"}},
        server_);
  }

  // Makes host k (1..200) on the server's bridge; its namespace's name, or
  // "" with *why.
  std::string AddHost(int k, std::string* why) {
    std::string ns = prefix_ + "h" + std::to_string(k);
    std::string port = "p" + std::to_string(k);
    *why = Steps({{"ip", "netns", "add", ns},
                  {"ip", "-n", ns, "link", "set", "lo", "up"},
                  {"ip", "-n", server_, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                   "netns", ns},
                  {"ip", "-n", server_, "link", "set", port, "master", "br0", "up"},
                  {"ip", "-n", ns, "addr", "add", "10.213.0." + std::to_string(10 + k) + "/24",
                   "dev", "eth0"},
                  {"ip", "-n", ns, "link", "set", "eth0", "up"}},
                 ns);
    return why->empty() ? ns : "";
  }

  // Unplugs host k's cable (its port on the bridge goes down), or plugs it
  // back. The host's own interface stays up: it is not told.
  bool Plug(int k, bool up) {
    return Run({"ip", "-n", server_, "link", "set", "p" + std::to_string(k), up ? "up" : "down"}) ==
           0;
  }

  // Moves the calling thread into the server's namespace (sockets it opens
  // are there; children it forks start there), until Leave.
  bool Enter() {
    if (home_ < 0) home_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(("/run/netns/" + server_).c_str(), O_RDONLY | O_CLOEXEC);
    bool entered = fd >= 0 && home_ >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
    return entered;
  }
  void Leave() {
    if (home_ < 0) return;
    setns(home_, CLONE_NEWNET);
    close(home_);
    home_ = -1;
  }

  // Starts `slipway args...` in namespace ns (`ip netns exec`, which execs:
  // the pid is slipway's), its output appended to log_path.
  pid_t Spawn(const std::string& ns, const std::vector<std::string>& args,
              const std::string& log_path) {
    pid_t pid = fork();
    if (pid == 0) {
      // Gone with the test, should it be killed (a ctest timeout); what
      // these processes started is removed with the namespaces by the
      // next run.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) _exit(127);
      dup2(fd, 1);
      dup2(fd, 2);
      syscall(SYS_close_range, 3, ~0U, 0);
      std::vector<std::string> storage = {"ip", "netns", "exec", ns, SLIPWAY_BINARY};
      storage.insert(storage.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : storage) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    if (pid > 0) spawned_[pid] = ns;
    return pid;
  }
  // SIGKILL to a process Spawn started, and reaps it.
  void Kill9(pid_t pid) {
    if (spawned_.erase(pid) == 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  const std::string& server() const { return server_; }

 private:
  // Runs the commands in order; the first failure's output. A namespace
  // that was added is deleted by the destructor whatever happened.
  std::string Steps(const std::vector<std::vector<std::string>>& steps, const std::string& ns) {
    for (const auto& step : steps) {
      std::string out;
      int rc = Run(step, &out);
      if (step.size() >= 3 && step[1] == "netns" && step[2] == "add" && rc == 0) {
        made_.push_back(ns);
      }
      if (rc != 0) {
        std::string command;
        for (const std::string& s : step) command += (command.empty() ? "" : " ") + s;
        return command + " exited with " + std::to_string(rc) + ": " + out;
      }
    }
    return "";
  }

  // Namespaces of earlier runs whose process is gone (killed mid-test).
  static void RemoveStale() {
    DIR* dir = opendir("/run/netns");
    if (dir == nullptr) return;
    std::vector<std::string> stale;
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.rfind("slwnet", 0) != 0) continue;
      pid_t pid = std::atoi(name.c_str() + 6);
      if (pid > 0 && kill(pid, 0) != 0) stale.push_back(name);
    }
    closedir(dir);
    for (const std::string& name : stale) Remove(name);
  }

  std::string prefix_, server_;
  std::vector<std::string> made_;
  std::map<pid_t, std::string> spawned_;
  int home_ = -1;
};

}  // namespace netns_test
}  // namespace slipway

#endif  // SLIPWAY_CLI_NETNS_TEST_UTIL_H_
