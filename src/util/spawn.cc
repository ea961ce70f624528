#include "util/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "util/children.h"

namespace slipway {
namespace {

// clone3's argument block (linux/sched.h, which clashes with <sched.h>).
struct Clone3Args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

#if defined(__x86_64__) && defined(SYS_clone3)
// clone3 with CLONE_VM needs a stack of its own for the child, and the child
// returns from the system call on that stack: it cannot return into C++. This
// trampoline calls fn(arg) there and exits with its result. In the parent it
// returns the child's pid or -errno.
// long SlipwayClone3(Clone3Args* args, size_t size, int (*fn)(void*), void* arg)
extern "C" long SlipwayClone3(Clone3Args* args, size_t size, int (*fn)(void*), void* arg);
asm(R"(
  .text
  .globl SlipwayClone3
  .hidden SlipwayClone3
  .type SlipwayClone3,@function
SlipwayClone3:
  movq %rdx, %r8
  movq %rcx, %r9
  movl $435, %eax
  syscall
  testq %rax, %rax
  jnz 1f
  xorl %ebp, %ebp
  movq %r9, %rdi
  call *%r8
  movl %eax, %edi
  movl $60, %eax
  syscall
  hlt
1:
  ret
  .size SlipwayClone3, .-SlipwayClone3
)");
constexpr bool kHaveClone3 = true;
#else
long SlipwayClone3(Clone3Args*, size_t, int (*)(void*), void*) { return -ENOSYS; }
constexpr bool kHaveClone3 = false;
#endif

// Cleared when the kernel turns CLONE_INTO_CGROUP down as unknown.
std::atomic<bool> clone3_works{kHaveClone3};

constexpr size_t kChildStackSize = 64 * 1024;

enum class Stage { kNone, kCgroup, kDescriptors, kChdir, kProcessGroup, kCredentials, kExec };

// Everything the child needs, prepared by the parent: the child allocates
// nothing and reads no global state.
struct ChildArgs {
  char* const* argv;
  char* const* envp;
  std::vector<const char*> programs;  // execve candidates, in PATH order.
  const char* cwd;
  int fds[4];
  int fd_count;
  int cgroup_procs_fd;  // Join by writing "0" to it.
  int max_fd;           // For closing one by one without close_range.
  bool new_process_group;
  bool new_session;
  bool set_umask;
  mode_t umask;
  bool set_credentials;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
  int parent_death_signal;
  pid_t parent;
  // Written by the child (the memory is shared) when a step fails.
  int error;
  Stage stage;
};

#if defined(__clang__)
#define SLIPWAY_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#else
#define SLIPWAY_NO_SANITIZE __attribute__((no_sanitize_address, no_sanitize_undefined))
#endif

// The child, sharing the parent's memory while the parent waits: raw system
// calls only (no allocation, no locks, no errno-dependent libc state).
SLIPWAY_NO_SANITIZE int ChildMain(void* raw) {
  ChildArgs* a = static_cast<ChildArgs*>(raw);
  auto fail = [a](Stage stage) {
    a->error = errno;
    a->stage = stage;
    _exit(127);
  };
  if (a->cgroup_procs_fd >= 0 && write(a->cgroup_procs_fd, "0", 1) != 1) fail(Stage::kCgroup);

  // Sources that sit where another target goes are moved out of the way first.
  int src[4];
  for (int i = 0; i < a->fd_count; ++i) {
    src[i] = a->fds[i];
    if (src[i] < a->fd_count && src[i] != i) {
      src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, a->fd_count);
      if (src[i] < 0) fail(Stage::kDescriptors);
    }
  }
  for (int i = 0; i < a->fd_count; ++i) {
    int rc = src[i] == i ? fcntl(i, F_SETFD, 0) : dup2(src[i], i);
    if (rc < 0) fail(Stage::kDescriptors);
  }
  if (syscall(SYS_close_range, a->fd_count, ~0U, 0) != 0) {
    for (int fd = a->fd_count; fd < a->max_fd; ++fd) close(fd);
  }

  if (a->cwd != nullptr && chdir(a->cwd) != 0) fail(Stage::kChdir);
  if (a->new_session) {
    if (setsid() < 0) fail(Stage::kProcessGroup);
  } else if (a->new_process_group && setpgid(0, 0) != 0) {
    fail(Stage::kProcessGroup);
  }

  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } dfl{SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig < 65; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(uint64_t));
  }

  // The child has its own fs_struct (no CLONE_FS): this is its umask only.
  if (a->set_umask) syscall(SYS_umask, a->umask);
  if (a->set_credentials) {
    if (syscall(SYS_setgroups, a->group_count, a->groups) != 0 ||
        syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0 ||
        syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0) {
      fail(Stage::kCredentials);
    }
  }
  if (a->parent_death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, a->parent_death_signal);
    if (getppid() != a->parent) _exit(127);  // The parent is gone already.
  }
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);

  // execvp's search: a directory without the file, or one we cannot search,
  // is skipped; EACCES is reported only if nothing else was found.
  bool saw_eacces = false;
  for (const char* program : a->programs) {
    execve(program, a->argv, a->envp);
    if (errno == EACCES) {
      saw_eacces = true;
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
               errno != ETIMEDOUT) {
      fail(Stage::kExec);
    }
  }
  if (saw_eacces) errno = EACCES;
  fail(Stage::kExec);
  return 127;
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The execve candidates for name: itself with a '/', else one per PATH entry
// (an empty entry is the working directory, as for execvp).
std::vector<std::string> ProgramCandidates(const std::string& name) {
  if (name.find('/') != std::string::npos) return {name};
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/bin:/usr/bin";
  std::vector<std::string> out;
  while (true) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    out.push_back(dir.empty() ? name : std::string(dir) + "/" + name);
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return out;
}

int DevNull() {
  static const int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

int MaxFd() {
  static const int max = [] {
    rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
    return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  }();
  return max;
}

// Blocks every signal of the calling thread (glibc's internal ones too, as
// posix_spawn does) so that no handler runs in the child while it shares
// the parent's memory; restores the mask when destroyed.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    uint64_t all = ~uint64_t{0};
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old_, sizeof all);
  }
  ~AllSignalsBlocked() { syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old_, nullptr, sizeof old_); }

 private:
  uint64_t old_ = 0;
};

std::string Reason(Stage stage, int error) {
  std::string text = std::strerror(error);
  switch (stage) {
    case Stage::kCgroup:
      return "joining the job's cgroup: " + text;
    case Stage::kCredentials:
      return "switching user: " + text;
    case Stage::kDescriptors:
      return "setting up descriptors: " + text;
    case Stage::kProcessGroup:
      return "setpgid or setsid: " + text;
    default:
      return text;
  }
}

}  // namespace

StatusOr<pid_t> Spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return Status::Error("cannot spawn: empty command");
  auto error = [&](const std::string& reason) {
    std::string where = request.cwd.empty() ? "" : " in " + request.cwd;
    const std::string& name = request.name.empty() ? request.argv[0] : request.name;
    return Status::Error("cannot start '" + name + "'" + where + ": " + reason);
  };
  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.env);
  std::vector<std::string> programs = ProgramCandidates(request.argv[0]);

  ChildArgs args{};
  args.argv = argv.data();
  args.envp = envp.data();
  for (const std::string& p : programs) args.programs.push_back(p.c_str());
  args.cwd = request.cwd.empty() ? nullptr : request.cwd.c_str();
  int null_fd = DevNull();
  args.fds[0] = request.stdin_fd >= 0 ? request.stdin_fd : null_fd;
  args.fds[1] = request.stdout_fd >= 0 ? request.stdout_fd : null_fd;
  args.fds[2] = request.stderr_fd >= 0 ? request.stderr_fd : null_fd;
  args.fds[3] = request.fd3;
  args.fd_count = request.fd3 >= 0 ? 4 : 3;
  if (null_fd < 0 && (request.stdin_fd < 0 || request.stdout_fd < 0 || request.stderr_fd < 0)) {
    return error("/dev/null: " + std::string(std::strerror(errno)));
  }
  args.max_fd = MaxFd();
  args.new_process_group = request.new_process_group;
  args.new_session = request.new_session;
  if (request.umask) {
    args.set_umask = true;
    args.umask = *request.umask & 0777;
  }
  if (request.credentials) {
    args.set_credentials = true;
    args.uid = request.credentials->uid;
    args.gid = request.credentials->gid;
    args.groups = request.credentials->groups.data();
    args.group_count = request.credentials->groups.size();
  }
  args.parent_death_signal = request.parent_death_signal;
  args.parent = getpid();
  args.cgroup_procs_fd = -1;
  args.stage = Stage::kNone;

  bool into_cgroup = request.cgroup_dir_fd >= 0 && !request.join_cgroup_by_write &&
                     clone3_works.load(std::memory_order_relaxed);
  int procs_fd = -1;
  if (request.cgroup_dir_fd >= 0 && !into_cgroup) {
    procs_fd = openat(request.cgroup_dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (procs_fd < 0) return error(Reason(Stage::kCgroup, errno));
    args.cgroup_procs_fd = procs_fd;
  }

  void* stack = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    if (procs_fd >= 0) close(procs_fd);
    return error("cannot map a stack: " + std::string(std::strerror(errno)));
  }
  char* stack_top = static_cast<char*>(stack) + kChildStackSize;

  pid_t pid = -1;
  int clone_error = 0;
  {
    ChildRegistration registration;
    AllSignalsBlocked blocked;
    if (into_cgroup) {
      Clone3Args clone_args{};
      clone_args.flags = CLONE_VM | CLONE_VFORK | kCloneIntoCgroup;
      clone_args.exit_signal = SIGCHLD;
      clone_args.stack = reinterpret_cast<uint64_t>(stack);
      clone_args.stack_size = kChildStackSize;
      clone_args.cgroup = static_cast<uint64_t>(request.cgroup_dir_fd);
      long rc = SlipwayClone3(&clone_args, sizeof clone_args, ChildMain, &args);
      if (rc == -ENOSYS || rc == -E2BIG || rc == -EINVAL) {
        // No clone3, or no CLONE_INTO_CGROUP (before 5.7): join by writing.
        clone3_works.store(false, std::memory_order_relaxed);
        procs_fd = openat(request.cgroup_dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        args.cgroup_procs_fd = procs_fd;
        if (procs_fd < 0) {
          clone_error = errno;
          args.stage = Stage::kCgroup;
        }
      } else if (rc < 0) {
        clone_error = static_cast<int>(-rc);
        args.stage = Stage::kCgroup;
      } else {
        pid = static_cast<pid_t>(rc);
      }
    }
    if (pid < 0 && clone_error == 0) {
      pid = clone(ChildMain, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
      if (pid < 0) clone_error = errno;
    }
    if (pid > 0) registration.Register(pid);
  }
  munmap(stack, kChildStackSize);
  if (procs_fd >= 0) close(procs_fd);
  if (pid < 0) {
    return error(args.stage == Stage::kNone ? "clone: " + std::string(std::strerror(clone_error))
                                            : Reason(args.stage, clone_error));
  }
  if (args.stage != Stage::kNone) {
    ReapChild(pid);
    return error(Reason(args.stage, args.error));
  }
  return pid;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::string ResolveExecutable(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  for (const std::string& candidate : ProgramCandidates(name)) {
    // A relative entry depends on the directory the child runs in.
    if (candidate.front() != '/') return name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return name;
}

}  // namespace slipway
