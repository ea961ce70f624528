#include "exec/sandbox.h"

#include <stdlib.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "exec/sandbox_image.h"
#include "exec/sandbox_network.h"
#include "util/spawn.h"
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
// image's content decides what is a link; the walk must stay in root).
Status MakeDirsBeneath(const std::string& root, const std::string& path) {
  UniqueFd dir(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  size_t at = 0;
  while (dir.valid() && at < path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(at, end - at);
    at = end + 1;
    if (name.empty() || name == ".") continue;
    if (name == ".." ) return Status::Error("'..' in " + path);
    if (mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) break;
    dir = UniqueFd(openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                      O_CLOEXEC));
  }
  if (!dir.valid()) {
    return Status::Error("cannot make " + path + " in the image: " + std::strerror(errno));
  }
  return Status::Ok();
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& entry : env) {
    if (entry.compare(0, name.size() + 1, name + "=") == 0) return entry.substr(name.size() + 1);
  }
  return "";
}

// The capabilities root keeps in an image: Docker's default set without
// CAP_MKNOD (the sandbox has no devices cgroup to stop a job from opening a
// disk it made a node for).
constexpr const char* kImageCaps[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",           "CAP_FSETID",  "CAP_SETUID",
    "CAP_SETGID", "CAP_SETFCAP",      "CAP_SETPCAP",          "CAP_KILL",    "CAP_SYS_CHROOT",
    "CAP_NET_RAW", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"};

// One attempt's sandbox: the state every script of it shares (root file
// system, network namespace, generated /etc files), kept until the
// lifecycle destroys the session after after_script.
class SandboxSession : public ScriptSession {
 public:
  SandboxSession(const SandboxScriptRunner::Options& options, ProcessRunner* runner,
                 std::string slot, std::string dir)
      : options_(options), runner_(runner), slot_(std::move(slot)), dir_(std::move(dir)) {}

  ~SandboxSession() override {
    if (slot_bound_) umount2((dir_ + "/slot").c_str(), MNT_DETACH);
    network_.reset();
    layer_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Set up by SandboxScriptRunner::Open.
  std::unique_ptr<SandboxNetwork> network_;
  std::unique_ptr<SandboxLayer> layer_;
  std::optional<ResolvedImage> image_;
  std::optional<std::vector<std::string>> entrypoint_;
  std::optional<ImageUser> user_;  // Set: switch to it (an image's user).
  std::string resolv_conf_;        // Generated for slirp's DNS; empty: the root's.

  StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                              const CancelToken* cancel) override {
    ProcessSpec sandboxed = spec;
    sandboxed.argv.clear();
    if (network_) {
      sandboxed.argv = {options_.nsenter, "--net=" + network_->path(), "--"};
    }
    // Who the job runs as: the lifecycle's identity, else the image's user.
    bool switch_user = spec.credentials.has_value();
    uid_t uid = switch_user ? spec.credentials->uid : 0;
    gid_t gid = switch_user ? spec.credentials->gid : 0;
    if (!switch_user && user_ && (user_->uid != 0 || user_->gid != 0)) {
      switch_user = true;
      uid = user_->uid;
      gid = user_->gid;
    }
    sandboxed.credentials.reset();
    bool privileged = !switch_user && geteuid() == 0;
    if (switch_user) {
      // After nsenter (which needs root), before bwrap, which then makes
      // the sandbox without privileges in a user namespace of the job's
      // user.
      sandboxed.argv.insert(sandboxed.argv.end(),
                            {options_.setpriv, "--reuid=" + std::to_string(uid),
                             "--regid=" + std::to_string(gid), "--clear-groups", "--"});
    }
    std::vector<std::string>& a = sandboxed.argv;
    a.insert(a.end(), {options_.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                       "--hostname", "sandbox"});
    if (network_) a.push_back("--share-net");
    if (privileged) {
      a.insert(a.end(), {"--cap-drop", "ALL"});
      if (image_) {
        for (const char* cap : kImageCaps) a.insert(a.end(), {"--cap-add", cap});
      }
    }
    std::string home = EnvValue(spec.env, "HOME");
    if (image_) {
      if (layer_->overlay()) {
        // The mount points bwrap needs, made here as root: bwrap may run as
        // the image's user, who cannot make them in the image's directories.
        for (const std::string& d : {std::string("/proc"), std::string("/dev"),
                                     std::string("/tmp"), slot_}) {
          if (Status made = MakeDirsBeneath(layer_->root(), d); !made.ok()) return made;
        }
        if (!resolv_conf_.empty()) {
          if (Status made = MakeDirsBeneath(layer_->root(), "/etc"); !made.ok()) return made;
          UniqueFd etc(open((layer_->root() + "/etc").c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          UniqueFd file(openat(etc.get(), "resolv.conf",
                               O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
        }
        a.insert(a.end(), {"--bind", layer_->root(), "/"});
      } else {
        a.insert(a.end(), {"--ro-bind", layer_->root(), "/"});
        for (const std::string& d : SandboxLayer::writable_dirs()) {
          if (IsDir(layer_->root() + d)) a.insert(a.end(), {"--tmpfs", d});
        }
        // bwrap cannot make the slot's mount point in a read-only root.
        std::string top = slot_.substr(0, slot_.find('/', 1));
        if (!IsDir(layer_->root() + top)) a.insert(a.end(), {"--tmpfs", top});
      }
      sandboxed.env = ImageEnvironment(image_->env, spec.env, HostTaken(spec.env), *user_);
    } else {
      a.insert(a.end(), {"--ro-bind", "/", "/", "--tmpfs", "/run", "--tmpfs", "/var/tmp"});
      // The host user's files (keys, tokens) stay out; the job gets an
      // empty, writable HOME.
      if (!home.empty() && home != "/" && IsDir(home)) a.insert(a.end(), {"--tmpfs", home});
    }
    a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs",
                       "/dev/shm"});
    // The run's or server's state beside the builds (the snapshot, other
    // jobs' slots, reports), then the job's own slot on top.
    std::string state = Parent(Parent(slot_));
    if (state != "/" && !image_) a.insert(a.end(), {"--tmpfs", state});
    for (const std::string& hide : options_.hide) {
      if (!image_ && IsDir(hide)) a.insert(a.end(), {"--tmpfs", hide});
    }
    std::string slot_source = slot_;
    if (switch_user) {
      // bwrap, now the job's user, may not be able to reach the slot
      // through the host's directories (a project under /root): it binds
      // it from here, under this session's directory, which it can.
      StatusOr<std::string> bound = SlotInSession();
      if (!bound.ok()) return bound.status();
      slot_source = *bound;
    }
    a.insert(a.end(), {"--bind", slot_source, slot_});
    if (!resolv_conf_.empty() && (image_ || IsFile("/etc/resolv.conf"))) {
      a.insert(a.end(), {"--ro-bind", resolv_conf_, "/etc/resolv.conf"});
    }
    if (!spec.cwd.empty()) a.insert(a.end(), {"--chdir", spec.cwd});
    a.push_back("--");
    if (image_) {
      std::vector<std::string> entrypoint = entrypoint_ ? *entrypoint_ : image_->entrypoint;
      std::vector<std::string> shell = ImageScriptArgv(entrypoint, spec.argv.back());
      a.insert(a.end(), shell.begin(), shell.end());
    } else {
      a.insert(a.end(), spec.argv.begin(), spec.argv.end());
    }
    return runner_->Run(sandboxed, output, cancel);
  }

 private:
  StatusOr<std::string> SlotInSession() {
    std::string target = dir_ + "/slot";
    if (slot_bound_) return target;
    if (mkdir(target.c_str(), 0700) != 0 ||
        mount(slot_.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return Status::Error("cannot bind " + slot_ + " for the job's user: " +
                           std::strerror(errno));
    }
    slot_bound_ = true;
    return target;
  }

  // The entries of env that JobEnvironment took from slipway's own
  // environment (the job did not set them): an image's values apply instead.
  static std::vector<std::string> HostTaken(const std::vector<std::string>& env) {
    std::vector<std::string> taken;
    for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ",
                             "TMPDIR"}) {
      const char* value = std::getenv(name);
      if (value != nullptr) taken.push_back(std::string(name) + "=" + value);
    }
    return taken;
  }

  const SandboxScriptRunner::Options& options_;
  ProcessRunner* runner_;
  std::string slot_;
  std::string dir_;
  bool slot_bound_ = false;  // Scripts run one after the other: no lock.
};

std::string Resolve(const std::string& tool) { return ResolveExecutable(tool); }

}  // namespace

Status CheckSandboxNetwork(const std::string& value) {
  if (value == "none" || value == "slirp") return Status::Ok();
  return Status::Error("SLIPWAY_SANDBOX_NETWORK must be none or slirp, not '" + value + "'");
}

SandboxScriptRunner::SandboxScriptRunner(Options options, ProcessRunner* runner)
    : options_(std::move(options)), runner_(runner) {
  options_.bwrap = Resolve(options_.bwrap);
  options_.slirp4netns = Resolve(options_.slirp4netns);
  options_.nsenter = Resolve(options_.nsenter);
  options_.setpriv = Resolve(options_.setpriv);
}

SandboxScriptRunner::~SandboxScriptRunner() = default;

StatusOr<std::unique_ptr<ScriptSession>> SandboxScriptRunner::Open(
    const Job& job, const std::string& workspace,
    const std::function<void(const std::string&)>& log) {
  std::string network = options_.network;
  if (const Variable* v = job.variables.Find("SLIPWAY_SANDBOX_NETWORK")) network = v->value;
  if (Status s = CheckSandboxNetwork(network); !s.ok()) {
    return Status::Error("job " + job.name + ": " + s.message());
  }
  std::optional<ImageKeyword> keyword;
  if (job.image) {
    StatusOr<ImageKeyword> parsed = ParseImageKeyword(*job.image, job.variables);
    if (!parsed.ok()) return Status::Error("job " + job.name + ": " + parsed.status().message());
    if (options_.images == nullptr) {
      return Status::Error("job " + job.name + " names image " + parsed->request.name +
                           ", but this sandbox has no image source");
    }
    keyword = std::move(*parsed);
  }
  if (job.services) log("WARNING: services: are not supported by the sandbox executor yet");

  std::string base = options_.work_dir;
  if (base.empty()) base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  std::string pattern = base + "/slipway-sandbox-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::Error("cannot make a directory under " + base + ": " + std::strerror(errno));
  }
  // Traversable by a job that runs as another user (its root and
  // resolv.conf are in here); listable by slipway only.
  chmod(pattern.c_str(), 0711);
  auto session = std::make_unique<SandboxSession>(options_, runner_, Parent(workspace), pattern);

  if (keyword) {
    log("Using sandbox with image " + keyword->request.name + " ...");
    StatusOr<ResolvedImage> image = options_.images->Resolve(keyword->request, log);
    if (!image.ok()) return image.status();
    std::string layer_dir = pattern + "/layer";
    if (mkdir(layer_dir.c_str(), 0711) != 0) {
      return Status::Error("cannot make " + layer_dir + ": " + std::strerror(errno));
    }
    StatusOr<std::unique_ptr<SandboxLayer>> layer = SandboxLayer::Make(image->rootfs, layer_dir);
    if (!layer.ok()) return layer.status();
    session->layer_ = std::move(*layer);
    StatusOr<ImageUser> user =
        ResolveImageUser(image->rootfs, keyword->user.empty() ? image->user : keyword->user);
    if (!user.ok()) return Status::Error("image " + keyword->request.name + ": " +
                                         user.status().message());
    session->user_ = *user;
    session->entrypoint_ = keyword->entrypoint;
    session->image_ = std::move(*image);
  } else {
    log("Using sandbox with the host's system read-only ...");
  }

  if (network == "slirp") {
    StatusOr<std::unique_ptr<SandboxNetwork>> net =
        SandboxNetwork::Make(options_.slirp4netns, runner_, log);
    if (!net.ok()) return net.status();
    session->network_ = std::move(*net);
    session->resolv_conf_ = pattern + "/resolv.conf";
    std::ofstream(session->resolv_conf_) << "nameserver 10.0.2.3\n";
  }
  return std::unique_ptr<ScriptSession>(std::move(session));
}

Status SandboxScriptRunner::Check(const Options& options, ProcessRunner* runner) {
  ProcessSpec spec;
  spec.argv = {ResolveExecutable(options.bwrap), "--unshare-all", "--die-with-parent",
               "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "true"};
  std::string output;
  StatusOr<ProcessResult> ran =
      runner->Run(spec, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
  if (!ran.ok()) return Status::Error("cannot run bwrap: " + ran.status().message());
  if (ran->exit_code != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return Status::Error("bwrap cannot make a sandbox here: " + output);
  }
  return Status::Ok();
}

}  // namespace slipway
