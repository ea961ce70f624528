#include "exec/sandbox.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "exec/file_tree.h"
#include "exec/sandbox_command.h"
#include "exec/sandbox_image.h"
#include "exec/sandbox_network.h"
#include "exec/sandbox_services.h"
#include "util/cgroup.h"
#include "util/containment.h"
#include "util/spawn.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// The entries of env that JobEnvironment took from slipway's own
// environment (the job did not set them): an image's values apply instead.
std::vector<std::string> HostTaken() {
  std::vector<std::string> taken;
  for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr) taken.push_back(std::string(name) + "=" + value);
  }
  return taken;
}

// A service of the attempt: its process runs on a thread of its own until
// the session stops it; its output is kept for the job's log.
struct RunningService {
  std::string name;
  std::unique_ptr<SandboxLayer> layer;
  CancelToken stop;
  std::atomic<bool> ended{false};
  std::mutex mu;
  std::string output;  // GUARDED_BY(mu)
  std::thread thread;
};

// One attempt's sandbox: the state every script of it shares (root file
// system, network namespace, services, generated /etc files), kept until the
// lifecycle destroys the session after after_script.
class SandboxSession : public ScriptSession {
 public:
  SandboxSession(const SandboxScriptRunner::Options& options, ProcessRunner* runner,
                 std::string slot, std::string dir, std::function<void(const std::string&)> log)
      : options_(options),
        runner_(runner),
        tools_{options.bwrap, options.nsenter, options.setpriv, options.prlimit},
        slot_(std::move(slot)),
        dir_(std::move(dir)),
        log_(std::move(log)) {}

  ~SandboxSession() override {
    for (auto& service : services_) service->stop.Cancel();
    for (auto& service : services_) {
      if (service->thread.joinable()) service->thread.join();
    }
    FlushServiceOutput();
    network_.reset();
    // dir_ is removed only once nothing is mounted in it: removing through
    // a bind of the slot or of the project's git objects would delete them.
    bool unmounted = true;
    for (const auto& [source, target] : bound_) {
      unmounted = (umount2(target.c_str(), MNT_DETACH) == 0 || errno == EINVAL) && unmounted;
    }
    for (auto& service : services_) unmounted = service->layer->Unmount() && unmounted;
    if (layer_) unmounted = layer_->Unmount() && unmounted;
    if (!unmounted) {
      log_("WARNING: could not unmount the sandbox's mounts; " + dir_ + " is left in place");
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Set up by SandboxScriptRunner::Open.
  std::unique_ptr<SandboxNetwork> network_;
  std::unique_ptr<SandboxLayer> layer_;
  std::optional<ResolvedImage> image_;
  std::optional<std::vector<std::string>> entrypoint_;
  std::optional<ImageUser> user_;
  // Directories the workspace's .git borrows objects from, bound
  // read-only at their paths (the private /tmp or HOME or an image would
  // hide them).
  std::vector<std::string> read_only_dirs_;
  // Host files bound over /etc files of the sandbox (hosts, resolv.conf).
  std::vector<std::pair<std::string, std::string>> files_;

  std::string image() const override { return image_ ? image_->reference : ""; }
  std::string image_digest() const override { return image_ ? image_->digest : ""; }

  StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                              const CancelToken* cancel) override {
    ProcessSpec sandboxed = spec;
    SandboxCommand c;
    if (network_) c.netns = network_->path();
    // Who the job runs as: the lifecycle's identity, else the image's user.
    c.switch_user = spec.credentials.has_value();
    if (c.switch_user) {
      c.uid = spec.credentials->uid;
      c.gid = spec.credentials->gid;
    } else if (user_ && (user_->uid != 0 || user_->gid != 0)) {
      c.switch_user = true;
      c.uid = user_->uid;
      c.gid = user_->gid;
    }
    sandboxed.credentials.reset();
    c.layer = layer_.get();
    // slipway's own HOME (the user's keys and tokens) is covered; the job's
    // HOME is a directory of its own in its slot (job_lifecycle.h).
    const char* own_home = std::getenv("HOME");
    c.home = own_home != nullptr ? own_home : "";
    c.hide = options_.hide;
    c.slot = slot_;
    c.slot_source = slot_;
    for (const std::string& dir : read_only_dirs_) c.read_only_dirs.push_back({dir, dir});
    if (c.switch_user) {
      // bwrap, now the job's user, may not be able to reach the slot or
      // the git objects through the host's directories (a project under
      // /root): it binds them from under this session's directory, which
      // it can traverse.
      StatusOr<std::string> bound = BindInSession(slot_);
      if (!bound.ok()) return bound.status();
      c.slot_source = *bound;
      for (auto& [source, target] : c.read_only_dirs) {
        bound = BindInSession(source);
        if (!bound.ok()) return bound.status();
        source = *bound;
      }
    }
    c.files = files_;
    c.limits = Limits();
    c.cwd = spec.cwd;
    if (image_) {
      c.command =
          ImageScriptArgv(entrypoint_ ? *entrypoint_ : image_->entrypoint, spec.argv.back());
      sandboxed.env = ImageEnvironment(image_->env, spec.env, HostTaken(), *user_);
    } else {
      c.command = spec.argv;
    }
    StatusOr<std::vector<std::string>> argv = SandboxArgv(tools_, c);
    if (!argv.ok()) return argv.status();
    sandboxed.argv = std::move(*argv);
    return runner_->Run(sandboxed, output, cancel);
  }

  // Starts the services in the attempt's network namespace (network_ set)
  // and waits for those with a health port (see sandbox_services.h), until
  // limits have Ended().
  Status StartServices(const std::vector<ServiceKeyword>& services, const Job& job,
                       const OpenLimits& limits) {
    std::vector<std::string> job_env = JobLifecycle::JobEnvironment(job.variables);
    for (size_t i = 0; i < services.size(); ++i) {
      const ServiceKeyword& service = services[i];
      log_("Starting service " + service.request.name + " ...");
      ImageRequest request = service.request;
      request.canceled = [&limits] { return limits.Ended(); };
      StatusOr<ResolvedImage> image = options_.images->Resolve(request, log_);
      if (!image.ok()) return image.status();
      auto running = std::make_unique<RunningService>();
      running->name = service.request.name;
      std::string dir = dir_ + "/service-" + std::to_string(i);
      if (Status made = MakeDirWithMode(dir, 0711); !made.ok()) return made;
      StatusOr<std::unique_ptr<SandboxLayer>> layer = SandboxLayer::Make(image->rootfs, dir);
      if (!layer.ok()) return layer.status();
      running->layer = std::move(*layer);
      StatusOr<ImageUser> user = ResolveImageUser(image->rootfs, image->user);
      if (!user.ok())
        return Status::Error("service " + running->name + ": " + user.status().message());
      // Docker's rule: an entrypoint of the job's own drops the image's Cmd.
      std::vector<std::string> command =
          service.entrypoint ? *service.entrypoint : image->entrypoint;
      const std::vector<std::string>& args =
          service.command ? *service.command
                          : (service.entrypoint ? std::vector<std::string>{} : image->cmd);
      command.insert(command.end(), args.begin(), args.end());
      if (command.empty()) return Status::Error("service " + running->name + " has no command");
      SandboxCommand c;
      c.netns = network_->path();
      c.switch_user = user->uid != 0 || user->gid != 0;
      c.uid = user->uid;
      c.gid = user->gid;
      c.layer = running->layer.get();
      c.files = files_;
      c.limits = Limits();
      c.cwd = image->working_dir.empty() ? "/" : image->working_dir;
      c.command = command;
      StatusOr<std::vector<std::string>> argv = SandboxArgv(tools_, c);
      if (!argv.ok()) return argv.status();
      ProcessSpec spec;
      spec.argv = std::move(*argv);
      std::vector<std::string> env = job_env;
      env.insert(env.end(), service.variables.begin(), service.variables.end());
      spec.env = ImageEnvironment(image->env, LastWins(env), HostTaken(), *user);
      RunningService* r = running.get();
      r->thread = std::thread([this, spec, r] {
        StatusOr<ProcessResult> ran = runner_->Run(
            spec,
            [r](std::string_view chunk) {
              std::lock_guard<std::mutex> lock(r->mu);
              if (r->output.size() < kMaxServiceOutput) r->output.append(chunk);
            },
            &r->stop);
        std::lock_guard<std::mutex> lock(r->mu);
        if (!ran.ok()) r->output += "\n" + ran.status().message() + "\n";
        r->ended = true;
      });
      services_.push_back(std::move(running));
    }
    for (size_t i = 0; i < services.size(); ++i) {
      int port = ServiceHealthPort(services[i], job.variables);
      if (port == 0) continue;
      if (limits.Ended()) break;
      log_("Waiting for services to be up and running (timeout 30 seconds)...");
      RunningService* r = services_[i].get();
      auto deadline = std::chrono::steady_clock::now() + kServiceWait;
      if (limits.deadline) deadline = std::min(deadline, *limits.deadline);
      bool up = WaitForTcpPort(network_->path(), port, deadline,
                               [r, &limits] { return r->ended.load() || limits.Ended(); });
      // Canceled or out of time: the lifecycle says so, not a warning.
      if (!up && limits.Ended()) break;
      if (!up) {
        log_("*** WARNING: Service " + r->name + " probably didn't start properly.");
        log_("Health check error:");
        log_("no connection to 127.0.0.1:" + std::to_string(port));
      }
    }
    return Status::Ok();
  }

 private:
  SandboxLimits Limits() const {
    SandboxLimits limits;
    limits.memory_bytes = options_.memory_bytes;
    limits.cpu_seconds = options_.cpu_seconds;
    return limits;
  }

  static constexpr size_t kMaxServiceOutput = 1 << 20;
  // GitLab Runner's default wait_for_services_timeout.
  static constexpr std::chrono::seconds kServiceWait{30};

  // env with each name once, its last value kept.
  static std::vector<std::string> LastWins(const std::vector<std::string>& env) {
    std::vector<std::string> out;
    for (const std::string& entry : env) {
      std::string prefix = entry.substr(0, entry.find('=') + 1);
      std::erase_if(out, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
      out.push_back(entry);
    }
    return out;
  }

  void FlushServiceOutput() {
    for (auto& service : services_) {
      std::lock_guard<std::mutex> lock(service->mu);
      if (service->output.empty()) continue;
      log_("Service " + service->name + " output:");
      std::string text = service->output;
      while (!text.empty() && text.back() == '\n') text.pop_back();
      log_(text);
    }
  }

  // A bind mount of source under the session's directory (made once).
  StatusOr<std::string> BindInSession(const std::string& source) {
    for (const auto& [from, target] : bound_) {
      if (from == source) return target;
    }
    std::string target = dir_ + "/bind-" + std::to_string(bound_.size());
    if (mkdir(target.c_str(), 0700) != 0 ||
        mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return Status::Error("cannot bind " + source +
                           " for the job's user: " + std::strerror(errno));
    }
    bound_.push_back({source, target});
    return target;
  }

  const SandboxScriptRunner::Options& options_;
  ProcessRunner* runner_;
  SandboxTools tools_;
  std::string slot_;
  std::string dir_;
  std::function<void(const std::string&)> log_;
  // Scripts run one after the other: no lock.
  std::vector<std::pair<std::string, std::string>> bound_;
  std::vector<std::unique_ptr<RunningService>> services_;
};

std::string Resolve(const std::string& tool) { return ResolveExecutable(tool); }

}  // namespace

StatusOr<uint64_t> ParseByteSize(const std::string& text) {
  size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  std::string suffix = text.substr(digits);
  int shift = suffix == ""                     ? 0
              : suffix == "K" || suffix == "k" ? 10
              : suffix == "M"                  ? 20
              : suffix == "G"                  ? 30
              : suffix == "T"                  ? 40
                                               : -1;
  if (digits == 0 || shift < 0 || digits > 12) {
    return Status::Error("'" + text + "' is not a size (a number, optionally with K, M, G or T)");
  }
  return std::stoull(text.substr(0, digits)) << shift;
}

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
  options_.prlimit = Resolve(options_.prlimit);

  // A limit is the cgroup's where the host lets slipway's job cgroups use
  // the controller, else what rlimits give (per process).
  const Containment& containment = DefaultContainment();
  std::string controllers;
  std::string why_not;
  if (containment.kind == ContainmentKind::kCgroup) {
    controllers = SubtreeControllers(containment.cgroup_parent);
    why_not = "is not enabled in " + containment.cgroup_parent + "/cgroup.subtree_control";
  } else {
    why_not = "is not available: no job cgroup (" + containment.why_not_cgroup + ")";
  }
  CgroupLimits job_limits;
  std::vector<std::string> notes;
  if (options_.memory_bytes != 0) {
    std::string amount = std::to_string(options_.memory_bytes >> 20) + " MiB";
    if (HasController(controllers, "memory")) {
      job_limits.memory_bytes = options_.memory_bytes;
      notes.push_back("memory " + amount + " for the whole job (cgroup v2 memory.max)");
    } else {
      notes.push_back("memory " + amount +
                      " per process (RLIMIT_AS; the cgroup v2 memory controller " + why_not + ")");
    }
  }
  if (options_.cpu_millis != 0) {
    std::string amount = std::to_string(options_.cpu_millis / 1000) + "." +
                         std::to_string(options_.cpu_millis % 1000 / 100) + " CPUs";
    if (HasController(controllers, "cpu")) {
      job_limits.cpu_millis = options_.cpu_millis;
      notes.push_back(amount + " for the whole job (cgroup v2 cpu.max)");
    } else {
      notes.push_back("WARNING: " + amount + " not applied (the cgroup v2 cpu controller " +
                      why_not + ")");
    }
  }
  if (options_.cpu_seconds != 0) {
    notes.push_back("CPU time " + std::to_string(options_.cpu_seconds) +
                    " s per process (RLIMIT_CPU)");
  }
  for (const std::string& note : notes) {
    limits_note_ += (limits_note_.empty() ? "" : "; ") + note;
  }
  if (job_limits.any()) {
    Containment limited = containment;
    limited.job_limits = job_limits;
    limited_runner_ = std::make_unique<PosixProcessRunner>(limited);
    runner_ = limited_runner_.get();
  }
  // Sessions keep a reference to their options: this runner's copy, where
  // a memory limit the job's cgroup carries is not also each process's.
  session_options_ = options_;
  if (job_limits.memory_bytes != 0) session_options_.memory_bytes = 0;
}

SandboxScriptRunner::~SandboxScriptRunner() = default;

StatusOr<std::unique_ptr<ScriptSession>> SandboxScriptRunner::Open(
    const Job& job, const std::string& workspace,
    const std::function<void(const std::string&)>& log, const OpenLimits& limits) {
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
  std::vector<ServiceKeyword> services;
  if (job.services) {
    StatusOr<std::vector<ServiceKeyword>> parsed = ParseServices(*job.services, job.variables);
    if (!parsed.ok()) return Status::Error("job " + job.name + ": " + parsed.status().message());
    if (!parsed->empty() && options_.images == nullptr) {
      return Status::Error("job " + job.name +
                           " has services, but this sandbox has no image "
                           "source");
    }
    services = std::move(*parsed);
  }

  std::string base = options_.work_dir;
  if (base.empty()) base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  std::string pattern = base + "/slipway-sandbox-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::Error("cannot make a directory under " + base + ": " + std::strerror(errno));
  }
  // Traversable by a job that runs as another user (its root and
  // resolv.conf are in here); listable by slipway only.
  chmod(pattern.c_str(), 0711);
  auto session =
      std::make_unique<SandboxSession>(session_options_, runner_, Parent(workspace), pattern, log);
  if (!limits_note_.empty()) log("Limits: " + limits_note_);

  {
    // Written by slipway when it made the workspace, before any of the
    // job's code ran.
    StatusOr<std::string> text = ReadFile(workspace + "/.git/objects/info/alternates", 1 << 16);
    std::istringstream alternates(text.ok() ? *text : std::string());
    std::string line;
    while (std::getline(alternates, line)) {
      if (!line.empty() && line[0] == '/') session->read_only_dirs_.push_back(line);
    }
  }
  if (keyword) {
    log("Using sandbox with image " + keyword->request.name + " ...");
    // A pull ends with the job (canceled, or out of time), not with the
    // download.
    keyword->request.canceled = [&limits] { return limits.Ended(); };
    StatusOr<ResolvedImage> image = options_.images->Resolve(keyword->request, log);
    if (!image.ok()) return image.status();
    std::string layer_dir = pattern + "/layer";
    if (Status made = MakeDirWithMode(layer_dir, 0711); !made.ok()) return made;
    StatusOr<std::unique_ptr<SandboxLayer>> layer = SandboxLayer::Make(image->rootfs, layer_dir);
    if (!layer.ok()) return layer.status();
    session->layer_ = std::move(*layer);
    StatusOr<ImageUser> user =
        ResolveImageUser(image->rootfs, keyword->user.empty() ? image->user : keyword->user);
    if (!user.ok())
      return Status::Error("image " + keyword->request.name + ": " + user.status().message());
    session->user_ = *user;
    session->entrypoint_ = keyword->entrypoint;
    session->image_ = std::move(*image);
  } else {
    log("Using sandbox with the host's system read-only ...");
  }

  // Scripts of a job without services and network start faster in a new
  // namespace each.
  if (network == "slirp" || !services.empty()) {
    StatusOr<std::unique_ptr<SandboxNetwork>> net =
        SandboxNetwork::Make(network == "slirp" ? options_.slirp4netns : "");
    if (!net.ok()) return net.status();
    session->network_ = std::move(*net);
  }
  if (network == "slirp") {
    std::string resolv_conf = pattern + "/resolv.conf";
    if (Status s = WriteFile(resolv_conf, "nameserver 10.0.2.3\n"); !s.ok()) return s;
    session->files_.push_back({resolv_conf, "/etc/resolv.conf"});
  }
  if (!services.empty()) {
    // GitLab's host names for each service, on the loopback they share.
    std::string names;
    for (const ServiceKeyword& service : services) {
      for (const std::string& name : ServiceHostNames(service)) names += " " + name;
    }
    std::string hosts = pattern + "/hosts";
    Status written = WriteFile(hosts, "127.0.0.1\tlocalhost sandbox" + names +
                                          "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (!written.ok()) return written;
    session->files_.push_back({hosts, "/etc/hosts"});
    if (Status started = session->StartServices(services, job, limits); !started.ok())
      return started;
  }
  return std::unique_ptr<ScriptSession>(std::move(session));
}

Status SandboxScriptRunner::Check(const Options& options, ProcessRunner* runner) {
  if (options.network == "slirp" && geteuid() != 0) {
    return Status::Error(
        "the sandbox's slirp network needs slipway to run as root; use --sandbox-network none");
  }
  ProcessSpec spec;
  spec.argv = {ResolveExecutable(options.bwrap),
               "--unshare-all",
               "--die-with-parent",
               "--ro-bind",
               "/",
               "/",
               "--proc",
               "/proc",
               "--dev",
               "/dev",
               "--",
               "true"};
  std::string output;
  StatusOr<ProcessResult> ran = runner->Run(
      spec, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
  if (!ran.ok()) return Status::Error("cannot run bwrap: " + ran.status().message());
  if (ran->exit_code != 0) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return Status::Error("bwrap cannot make a sandbox here: " + output);
  }
  return Status::Ok();
}

}  // namespace slipway
