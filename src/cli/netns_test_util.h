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

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
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

// The port a `slipway serve` listening on address:0 says it got, from its
// log at log_path; 0 when it says none within WaitFor's time.
inline int WaitForPort(const std::string& log_path, const std::string& address) {
  std::string at = "://" + address + ":";
  int port = 0;
  WaitFor([&] {
    std::string log = Slurp(log_path);
    size_t found = log.find(at);
    if (found == std::string::npos || log.find('\n', found) == std::string::npos) return false;
    port = std::atoi(log.c_str() + found + at.size());
    return true;
  });
  return port;
}

// How many lines the file at path has (0 when there is none).
inline int LinesIn(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Whether the runner whose --dir is dir holds a lease now (a job's
// directory DIR/jobs/<job id>-<fence> exists): killed now, that job's
// attempt is lost for sure.
inline bool Holding(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir + "/jobs") && !std::filesystem::is_empty(dir + "/jobs", ec);
}

// One line of a job's record file (MARKS/<job name>), which its attempts
// append to wherever they run: "start|tick|end <job id> <runner>".
struct Record {
  std::string what;
  int64_t job_id = 0;
  std::string runner;
};

inline std::vector<Record> Records(const std::string& path) {
  std::vector<Record> records;
  std::ifstream in(path);
  Record r;
  while (in >> r.what >> r.job_id >> r.runner) records.push_back(r);
  return records;
}

// The records of different job ids do not interleave: each attempt's lines
// are one block, so no two attempts of a job ran at once.
inline bool OneAttemptAtATime(const std::vector<Record>& records, std::string* why) {
  std::set<int64_t> closed;
  for (size_t i = 0; i < records.size(); ++i) {
    if (closed.count(records[i].job_id) != 0) {
      *why = "job " + std::to_string(records[i].job_id) + " wrote again after another attempt";
      return false;
    }
    if (i + 1 < records.size() && records[i + 1].job_id != records[i].job_id) {
      closed.insert(records[i].job_id);
    }
  }
  return true;
}

// The checks of a pipeline whose jobs (`count` names, every attempt in
// `jobs`, the API's list with retried ones) each wrote start/end records
// to MARKS/<name> and the lines "<name> line 1".."<name> line <lines>":
// every job name ended exactly once (its last attempt succeeded, the ones
// before failed with runner_system_failure, no id listed twice), each
// attempt ran on one runner (the one the API names for the successful
// one) and the attempts of a job did not overlap, the successful attempt's
// log has every line in order and a lost one's a gap-free prefix. Returns
// how many attempts were lost.
inline int CheckEachJobEndedOnce(const nlohmann::json& jobs, const std::string& marks, int lines,
                                 int count, const std::function<std::string(int64_t)>& trace) {
  std::map<std::string, std::vector<nlohmann::json>> attempts;  // By name, in id order.
  std::set<int64_t> ids;
  for (const nlohmann::json& j : jobs) {
    EXPECT_TRUE(ids.insert(j["id"].get<int64_t>()).second) << "job listed twice: " << j.dump();
    attempts[j["name"]].push_back(j);
  }
  EXPECT_EQ(attempts.size(), static_cast<size_t>(count));
  int lost = 0;
  for (auto& [name, tries] : attempts) {
    std::sort(tries.begin(), tries.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) { return a["id"] < b["id"]; });
    EXPECT_EQ(tries.back()["status"], "success") << tries.back().dump();
    for (size_t i = 0; i + 1 < tries.size(); ++i) {
      EXPECT_EQ(tries[i]["status"], "failed") << tries[i].dump();
      EXPECT_EQ(tries[i]["failure_reason"], "runner_system_failure") << tries[i].dump();
      ++lost;
    }
    std::vector<Record> records = Records(marks + "/" + name);
    std::string why;
    EXPECT_TRUE(OneAttemptAtATime(records, &why)) << name << ": " << why;
    std::map<int64_t, std::string> ran_on;
    for (const Record& r : records) {
      auto [it, first] = ran_on.emplace(r.job_id, r.runner);
      EXPECT_EQ(it->second, r.runner) << name << " ran on two runners";
    }
    const nlohmann::json& done = tries.back();
    int64_t done_id = done["id"].get<int64_t>();
    EXPECT_EQ(ran_on[done_id], done["runner"]["description"]) << name << " " << done.dump();
    EXPECT_EQ(std::count_if(records.begin(), records.end(),
                            [&](const Record& r) { return r.job_id == done_id; }),
              2)
        << name;
    // Every line a runner had acknowledged is in the log, in order, once:
    // all of them for the attempt that succeeded, a prefix for the others.
    for (const nlohmann::json& attempt : tries) {
      int64_t id = attempt["id"].get<int64_t>();
      std::istringstream log(trace(id));
      std::string line;
      int next = 1;
      std::string prefix = name + " line ";
      while (std::getline(log, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        EXPECT_EQ(line, prefix + std::to_string(next)) << name << " (" << id << ")";
        ++next;
      }
      if (id == done_id) {
        EXPECT_EQ(next, lines + 1) << name << ":\n" << trace(id);
      }
    }
  }
  return lost;
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
    std::vector<std::string> argv = {SLIPWAY_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return SpawnCommand(ns, argv, log_path);
  }
  // Starts argv (a program and its arguments) in namespace ns, likewise.
  pid_t SpawnCommand(const std::string& ns, const std::vector<std::string>& command,
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
      std::vector<std::string> storage = {"ip", "netns", "exec", ns};
      storage.insert(storage.end(), command.begin(), command.end());
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
