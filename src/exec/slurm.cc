#include "exec/slurm.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "exec/bash_script.h"
#include "exec/scheduler_parameters.h"
#include "util/unique_fd.h"

namespace slipway {
namespace {

constexpr std::string_view kSlurmConf = "SLURM_CONF";

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The value of NAME in env (NAME=value strings), or null.
const char* EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return e.c_str() + name.size() + 1;
    }
  }
  return nullptr;
}

// The environment for Slurm's commands: env with slipway's own SLURM_CONF
// in place of one the job may have set.
std::vector<std::string> CommandEnvironment(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  const char* conf = std::getenv(std::string(kSlurmConf).c_str());
  for (const std::string& e : env) {
    if (conf != nullptr &&
        e.compare(0, kSlurmConf.size() + 1, std::string(kSlurmConf) + "=") == 0) {
      continue;
    }
    out.push_back(e);
  }
  if (conf != nullptr) out.push_back(std::string(kSlurmConf) + "=" + conf);
  return out;
}

// Slurm's time limit for a timeout: whole minutes, rounded up (Slurm keeps
// limits in minutes), at least one.
std::string TimeLimit(std::chrono::milliseconds timeout) {
  int64_t minutes = (timeout.count() + 59999) / 60000;
  return std::to_string(minutes < 1 ? 1 : minutes);
}

struct CommandOutput {
  int exit_code = -1;
  std::string out, err;
};

class SlurmScriptSession : public ScriptSession {
 public:
  SlurmScriptSession(const SlurmScriptRunner::Options& options, ProcessRunner* runner,
                     std::string job_name)
      : options_(options), runner_(runner), job_name_(std::move(job_name)) {}

  StatusOr<ProcessResult> Run(const ProcessSpec& spec, const OutputFn& output,
                              const CancelToken* cancel) override;

 private:
  // Runs one of Slurm's commands as slipway (or with credentials) and
  // collects what it printed.
  StatusOr<CommandOutput> Command(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env,
                                  const ProcessSpec* as = nullptr) {
    ProcessSpec spec;
    spec.argv = argv;
    spec.env = env;
    spec.contain = false;
    spec.timeout = std::chrono::minutes(2);
    if (as != nullptr) {
      spec.cwd = as->cwd;
      spec.credentials = as->credentials;
      spec.umask = as->umask;
    }
    CommandOutput result;
    spec.stderr_output = [&](std::string_view chunk) { result.err.append(chunk); };
    StatusOr<ProcessResult> ran = runner_->Run(
        spec, [&](std::string_view chunk) { result.out.append(chunk); }, nullptr);
    if (!ran.ok()) return ran.status();
    result.exit_code = ran->exit_code;
    while (!result.err.empty() && result.err.back() == '\n') result.err.pop_back();
    return result;
  }

  StatusOr<SlurmJobStatus> Query(const std::string& id, const std::vector<std::string>& env) {
    StatusOr<CommandOutput> shown = Command({options_.scontrol, "show", "job", "-o", id}, env);
    if (!shown.ok()) return shown.status();
    if (shown->exit_code != 0) {
      return Status::Error("'scontrol show job " + id + "' failed: " + shown->err);
    }
    return ParseScontrolJob(shown->out);
  }

  const SlurmScriptRunner::Options& options_;
  ProcessRunner* runner_;
  std::string job_name_;
};

StatusOr<ProcessResult> SlurmScriptSession::Run(const ProcessSpec& spec, const OutputFn& output,
                                                const CancelToken* cancel) {
  if (spec.argv.empty()) return Status::Error("no script to submit");
  std::vector<std::string> parameters;
  if (const char* value = EnvValue(spec.env, kSchedulerParametersVariable); value != nullptr) {
    StatusOr<std::vector<std::string>> parsed = ParseSchedulerParameters(value);
    if (!parsed.ok()) return parsed.status();
    parameters = std::move(*parsed);
  }
  // The output file, beside the script: made here (so that it is the job
  // user's even where the slot is slipway's) and read from its start.
  std::string script = spec.argv.back();
  std::string out_path = script.substr(0, script.rfind(".sh")) + ".slurm.out";
  {
    UniqueFd made(
        ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!made.valid())
      return Status::Error("cannot create " + out_path + ": " + std::strerror(errno));
    if (spec.credentials &&
        ::fchown(made.get(), spec.credentials->uid, spec.credentials->gid) != 0) {
      return Status::Error("cannot give " + out_path + " to the job's user" + ": " +
                           std::strerror(errno));
    }
  }
  UniqueFd reader(::open(out_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!reader.valid())
    return Status::Error("cannot open " + out_path + ": " + std::strerror(errno));
  auto drain = [&] {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(reader.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      output(std::string_view(buffer, static_cast<size_t>(n)));
    }
  };

  std::vector<std::string> command;
  for (const std::string& a : spec.argv) command.push_back(ShellQuote(a));
  std::vector<std::string> argv = {options_.sbatch, "--parsable", "--job-name=" + job_name_};
  argv.insert(argv.end(), parameters.begin(), parameters.end());
  argv.push_back("--output=" + out_path);
  argv.push_back("--open-mode=append");
  argv.push_back("--chdir=" + spec.cwd);
  argv.push_back("--export=ALL");
  if (spec.timeout) argv.push_back("--time=" + TimeLimit(*spec.timeout));
  argv.push_back("--wrap=exec " + Join(command));
  std::vector<std::string> env = CommandEnvironment(spec.env);
  StatusOr<CommandOutput> submitted = Command(argv, env, &spec);
  if (!submitted.ok()) return submitted.status();
  if (submitted->exit_code != 0) {
    return Status::Error("sbatch failed with exit code " + std::to_string(submitted->exit_code) +
                         ": " + submitted->err);
  }
  std::string id = submitted->out.substr(0, submitted->out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Error("sbatch answered '" + submitted->out + "', not a job id");
  }
  output("Submitted Slurm job " + id + "\n");

  // Slurm's own commands need no job variables.
  std::vector<std::string> tool_env = CommandEnvironment(HostEnvironmentForTools());
  auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (spec.timeout) deadline = started + *spec.timeout;
  ProcessResult result;
  std::optional<std::chrono::steady_clock::time_point> stopping_since;
  // Since when scontrol fails, when it does (zero: it answers).
  std::chrono::steady_clock::time_point failing_since{};
  SlurmJobStatus status;
  for (;;) {
    drain();
    auto now = std::chrono::steady_clock::now();
    if (!stopping_since) {
      result.canceled = cancel != nullptr && cancel->canceled();
      result.timed_out = !result.canceled && deadline && now >= *deadline;
      if (result.canceled || result.timed_out) {
        stopping_since = now;
        StatusOr<CommandOutput> scancel = Command({options_.scancel, id}, tool_env);
        if (!scancel.ok()) return scancel.status();
        if (scancel->exit_code != 0) {
          return Status::Error("'scancel " + id + "' failed: " + scancel->err);
        }
      }
    } else if (now - *stopping_since > options_.cancel_wait) {
      return Status::Error("Slurm job " + id + " did not end within " +
                           std::to_string(options_.cancel_wait.count() / 1000) + " s of scancel");
    }
    StatusOr<SlurmJobStatus> queried = Query(id, tool_env);
    if (queried.ok()) {
      failing_since = {};
      status = std::move(*queried);
      if (status.Finished()) break;
    } else if (failing_since == std::chrono::steady_clock::time_point{}) {
      failing_since = now;
    } else if (now - failing_since > std::chrono::seconds(60)) {
      // The controller was unreachable for a minute, or forgot the job.
      return Status::Error("lost track of Slurm job " + id + ": " + queried.status().message());
    }
    auto interval = options_.poll_interval;
    if (now - started > std::chrono::seconds(20)) {
      interval = std::min(interval * 10, std::chrono::milliseconds(500));
    }
    std::this_thread::sleep_for(interval);
  }
  drain();
  if (status.state == "NODE_FAIL" || status.state == "BOOT_FAIL") {
    return Status::Error("Slurm job " + id + " ended " + status.state + " (" + status.reason + ")");
  }
  if (status.state == "TIMEOUT" && !result.canceled) result.timed_out = true;
  if (status.state != "COMPLETED" && status.state != "FAILED" && !result.canceled &&
      !result.timed_out) {
    output("Slurm job " + id + " ended " + status.state + "\n");
  }
  result.exit_code = status.ShellExitCode();
  return result;
}

}  // namespace

bool SlurmJobStatus::Finished() const {
  static constexpr std::string_view kActive[] = {
      "PENDING",     "CONFIGURING",  "RUNNING",  "COMPLETING", "SUSPENDED", "REQUEUED",
      "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING",  "STAGE_OUT", "RESV_DEL_HOLD"};
  for (std::string_view active : kActive) {
    if (state == active) return false;
  }
  return true;
}

StatusOr<SlurmJobStatus> ParseScontrolJob(std::string_view text) {
  SlurmJobStatus status;
  bool has_state = false, has_exit = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find_first_of(" \n", i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    i = end + 1;
    size_t eq = word.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "JobState") {
      status.state = std::string(value);
      has_state = !value.empty();
    } else if (key == "Reason") {
      status.reason = std::string(value);
    } else if (key == "ExitCode") {
      size_t colon = value.find(':');
      if (colon == std::string_view::npos) break;
      char* parse_end = nullptr;
      std::string n(value.substr(0, colon)), s(value.substr(colon + 1));
      status.exit_code = static_cast<int>(std::strtol(n.c_str(), &parse_end, 10));
      if (n.empty() || *parse_end != '\0') break;
      status.signal = static_cast<int>(std::strtol(s.c_str(), &parse_end, 10));
      if (s.empty() || *parse_end != '\0') break;
      has_exit = true;
    }
  }
  if (!has_state || !has_exit) {
    return Status::Error("'scontrol show job' printed no JobState and ExitCode: '" +
                         std::string(text.substr(0, 200)) + "'");
  }
  return status;
}

Status SlurmScriptRunner::Check(const Options& options, ProcessRunner* runner) {
  StatusOr<std::string> shown = RunTool(runner, {options.sinfo, "-h", "-o", "%P"}, "",
                                        CommandEnvironment(std::vector<std::string>()));
  if (!shown.ok()) {
    return Status::Error(
        "the Slurm executor needs Slurm's commands (sbatch, scontrol, scancel, "
        "sinfo) and a controller that answers: " +
        shown.status().message());
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<ScriptSession>> SlurmScriptRunner::Open(
    const Job& job, const std::string&, const std::function<void(const std::string&)>& log,
    const OpenLimits&) {
  if (job.image || job.services) {
    log("WARNING: image: and services: are ignored; the Slurm executor runs the job's scripts "
        "on the cluster's nodes as they are");
  }
  return std::unique_ptr<ScriptSession>(
      std::make_unique<SlurmScriptSession>(options_, runner_, job.name));
}

}  // namespace slipway
